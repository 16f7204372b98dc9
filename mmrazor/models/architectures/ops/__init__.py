# Copyright (c) OpenMMLab. All rights reserved.
"""Candidate ops of the search spaces."""
from .base import BaseOP
from .common import Identity
from .darts_series import (
                           DartsDilConv,
                           DartsPoolBN,
                           DartsSepConv,
                           DartsSkipConnect,
                           DartsZero,
)
from .efficientnet_series import ConvBnAct, DepthwiseSeparableConv
from .gather_tensors import GatherTensors
from .mobilenet_series import MBBlock, ShortcutLayer
from .shufflenet_series import ShuffleBlock, ShuffleXception
from .transformer_series import (
                                 MultiheadAttention,
                                 PatchEmbed,
                                 RelativePosition2D,
                                 TransformerEncoderLayer,
)

__all__ = [
    'BaseOP', 'ConvBnAct', 'DepthwiseSeparableConv', 'GatherTensors',
    'Identity', 'MBBlock', 'ShortcutLayer', 'ShuffleBlock',
    'ShuffleXception', 'DartsDilConv', 'DartsPoolBN', 'DartsSepConv',
    'DartsSkipConnect', 'DartsZero', 'MultiheadAttention', 'PatchEmbed',
    'RelativePosition2D', 'TransformerEncoderLayer'
]


def __getattr__(name: str):
    """``ops.InputResizer``, the original MMRazor's path of the resizer in
    :mod:`..dynamic_ops` (which imports this package, so it is looked up
    late)."""
    if name == 'InputResizer':
        from ..dynamic_ops import InputResizer
        return InputResizer
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
