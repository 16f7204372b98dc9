# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's import path of the dynamic-op mixins
(``dynamic_ops.mixins``). Here one mixin,
:class:`~mmrazor.models.architectures.dynamic_ops.DynamicOpMixin`, holds
the mutable attributes of every dynamic op, and each op family shares one
base class: the original's names point at them."""
from .. import (
                DynamicBatchNormMixin,
                DynamicChannelMixin,
                DynamicConvMixin,
                DynamicLayerNormMixin,
                DynamicLinearMixin,
                DynamicMixin,
)

__all__ = [
    'DynamicChannelMixin', 'DynamicBatchNormMixin', 'DynamicLinearMixin',
    'DynamicMixin', 'DynamicConvMixin', 'DynamicLayerNormMixin'
]
