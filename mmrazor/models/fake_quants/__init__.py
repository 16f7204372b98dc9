# Copyright (c) OpenMMLab. All rights reserved.
"""Fake quantizers of the quantization config language, registered by name.

``global_qconfig`` dicts name them as ``w_fake_quant`` / ``a_fake_quant``.
torchao's ``FakeQuantize`` and ``FusedMovingAvgObsFakeQuantize`` are
registered under those names; :class:`LearnableFakeQuantize` (LSQ) is
defined here. They exist only where torchao is installed (the ``quant``
extra).
"""
from mmrazor.utils.torchao_import import torchao_available

__all__ = []
if torchao_available():
    from .learnable_fake_quantize import (
        TORCHAO_FAKE_QUANTS,
        LearnableFakeQuantize,
        enable_param_learning,
        enable_static_estimate,
        enable_val,
    )
    __all__ += [
        'LearnableFakeQuantize', 'TORCHAO_FAKE_QUANTS',
        'enable_param_learning', 'enable_static_estimate', 'enable_val'
    ]
