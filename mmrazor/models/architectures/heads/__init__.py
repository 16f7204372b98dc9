# Copyright (c) OpenMMLab. All rights reserved.
"""Heads of searchable models."""
from .dynamic_linear_cls_head import DynamicLinearClsHead

__all__ = ['DynamicLinearClsHead']
