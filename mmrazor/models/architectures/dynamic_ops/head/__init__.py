# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's import path of ``DynamicLinearClsHead``
(``dynamic_ops.head``); it lives in :mod:`mmrazor.models.architectures.heads`
here."""
from mmrazor.models.architectures.heads import DynamicLinearClsHead

__all__ = ['DynamicLinearClsHead']
