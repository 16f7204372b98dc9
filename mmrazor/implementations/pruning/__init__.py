# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's ``mmrazor.implementations.pruning`` path."""
from . import group_fisher

__all__ = ['group_fisher']
