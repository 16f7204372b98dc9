# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's import path of the dynamic ops
(``dynamic_ops.bricks``); they live in :mod:`..dynamic_ops` here."""
from .. import (
                BigNasConv2d,
                DynamicBatchNorm1d,
                DynamicBatchNorm2d,
                DynamicBatchNorm3d,
                DynamicBatchNormXd,
                DynamicConv2d,
                DynamicConv2dAdaptivePadding,
                DynamicInputResizer,
                DynamicLayerNorm,
                DynamicLinear,
    DynamicMultiheadAttention,
                DynamicPatchEmbed,
                DynamicRelativePosition2D,
                DynamicSequential,
                DynamicSyncBatchNorm,
                FuseConv2d,
                OFAConv2d,
                SwitchableBatchNorm2d,
)

__all__ = [
    'BigNasConv2d', 'DynamicConv2d', 'OFAConv2d', 'DynamicLinear',
    'DynamicBatchNorm1d', 'DynamicBatchNorm2d', 'DynamicBatchNorm3d',
    'SwitchableBatchNorm2d', 'DynamicSequential', 'FuseConv2d',
    'DynamicConv2dAdaptivePadding', 'DynamicBatchNormXd',
    'DynamicInputResizer', 'DynamicLayerNorm', 'DynamicMultiheadAttention',
    'DynamicPatchEmbed', 'DynamicRelativePosition2D', 'DynamicSyncBatchNorm'
]
