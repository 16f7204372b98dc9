# Copyright (c) OpenMMLab. All rights reserved.
"""Heads of searchable models."""
from .darts_subnet_head import DartsSubnetClsHead
from .deit_head import DeiTClsHead
from .dynamic_linear_cls_head import DynamicLinearClsHead

__all__ = ['DartsSubnetClsHead', 'DeiTClsHead', 'DynamicLinearClsHead']
