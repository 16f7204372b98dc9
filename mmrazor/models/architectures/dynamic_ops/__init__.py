# Copyright (c) OpenMMLab. All rights reserved.
"""Dynamic ops: static ``torch.nn`` ops that run a chosen sub-shape.

``DYNAMIC_OF`` maps a static op type to the dynamic type a mutator converts
it to: exact types only, since a subclass may change the forward.
"""
import torch.nn as nn
from mmcls.models.utils.norm import LayerNorm2d
from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding
from mmcv.cnn.bricks.wrappers import Conv2d as MMCVConv2d
from mmcv.cnn.bricks.wrappers import Linear as MMCVLinear
from mmengine.model.utils import _BatchNormXd

from ..ops.transformer_series import (
                                      MultiheadAttention,
                                      PatchEmbed,
                                      RelativePosition2D,
)
from ._mixin import DynamicOpMixin
from .dynamic_attention import (
                                      DynamicMultiheadAttention,
                                      DynamicPatchEmbed,
                                      DynamicRelativePosition2D,
)
from .dynamic_container import DynamicSequential
from .dynamic_conv import (
                                      BigNasConv2d,
                                      DynamicConv2d,
                                      DynamicConv2dAdaptivePadding,
                                      OFAConv2d,
)
from .dynamic_linear import DynamicLinear
from .dynamic_norm import (
                                      DynamicBatchNorm1d,
                                      DynamicBatchNorm2d,
                                      DynamicBatchNorm3d,
                                      DynamicBatchNormMixin,
                                      DynamicBatchNormXd,
                                      DynamicLayerNorm,
                                      DynamicLayerNorm2d,
                                      DynamicSyncBatchNorm,
)
from .dynamic_resizer import DynamicInputResizer, InputResizer
from .fuse_conv import FuseConv2d
from .switchable_norm import SwitchableBatchNorm2d

# The original MMRazor's mixin names: one mixin holds the mutable attributes
# of every dynamic op here, and each family shares one base class.
DynamicMixin = DynamicOpMixin
DynamicChannelMixin = DynamicOpMixin
DynamicConvMixin = DynamicConv2d
DynamicLinearMixin = DynamicLinear
DynamicLayerNormMixin = DynamicLayerNorm

DYNAMIC_OF = {
    nn.Conv2d: DynamicConv2d,
    nn.Linear: DynamicLinear,
    nn.BatchNorm1d: DynamicBatchNorm1d,
    nn.BatchNorm2d: DynamicBatchNorm2d,
    nn.BatchNorm3d: DynamicBatchNorm3d,
    _BatchNormXd: DynamicBatchNormXd,
    nn.LayerNorm: DynamicLayerNorm,
    # mmcv's wrappers differ from torch's only on empty inputs
    MMCVConv2d: DynamicConv2d,
    MMCVLinear: DynamicLinear,
    Conv2dAdaptivePadding: DynamicConv2dAdaptivePadding,
    LayerNorm2d: DynamicLayerNorm2d,
    MultiheadAttention: DynamicMultiheadAttention,
    RelativePosition2D: DynamicRelativePosition2D,
    PatchEmbed: DynamicPatchEmbed,
}

__all__ = [
    'DynamicOpMixin', 'DynamicConv2d', 'BigNasConv2d', 'OFAConv2d',
    'DynamicConv2dAdaptivePadding', 'DynamicLinear', 'DynamicBatchNorm1d',
    'DynamicBatchNorm2d', 'DynamicLayerNorm', 'DynamicLayerNorm2d',
    'DynamicSequential', 'DynamicInputResizer', 'InputResizer',
    'SwitchableBatchNorm2d', 'DYNAMIC_OF', 'DynamicBatchNorm3d',
    'DynamicBatchNormXd', 'DynamicSyncBatchNorm', 'FuseConv2d',
    'DynamicMixin', 'DynamicChannelMixin',
    'DynamicConvMixin', 'DynamicLinearMixin', 'DynamicLayerNormMixin',
    'DynamicBatchNormMixin', 'DynamicMultiheadAttention',
    'DynamicRelativePosition2D', 'DynamicPatchEmbed'
]
