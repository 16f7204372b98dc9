# Copyright (c) OpenMMLab. All rights reserved.
"""Mutables: what can change in a supernet."""
from .base_mutable import BaseMutable
from .mutable_module import OneShotMutableOP
from .mutable_value import OneShotMutableValue

__all__ = ['BaseMutable', 'OneShotMutableOP', 'OneShotMutableValue']
