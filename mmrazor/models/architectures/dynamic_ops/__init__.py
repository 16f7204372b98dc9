# Copyright (c) OpenMMLab. All rights reserved.
"""Dynamic ops: static ``torch.nn`` ops that run a chosen sub-shape.

``DYNAMIC_OF`` maps a static op type to the dynamic type a mutator converts
it to (most specific type first).
"""
import torch.nn as nn

from ._mixin import DynamicOpMixin
from .dynamic_container import DynamicSequential
from .dynamic_conv import BigNasConv2d, DynamicConv2d, OFAConv2d
from .dynamic_linear import DynamicLinear
from .dynamic_norm import (
                           DynamicBatchNorm1d,
                           DynamicBatchNorm2d,
                           DynamicLayerNorm,
)
from .dynamic_resizer import DynamicInputResizer, InputResizer
from .switchable_norm import SwitchableBatchNorm2d

DYNAMIC_OF = {
    nn.Conv2d: DynamicConv2d,
    nn.Linear: DynamicLinear,
    nn.BatchNorm1d: DynamicBatchNorm1d,
    nn.BatchNorm2d: DynamicBatchNorm2d,
    nn.LayerNorm: DynamicLayerNorm,
}

__all__ = [
    'DynamicOpMixin', 'DynamicConv2d', 'BigNasConv2d', 'OFAConv2d',
    'DynamicLinear', 'DynamicBatchNorm1d', 'DynamicBatchNorm2d',
    'DynamicLayerNorm', 'DynamicSequential', 'DynamicInputResizer',
    'InputResizer', 'SwitchableBatchNorm2d', 'DYNAMIC_OF'
]
