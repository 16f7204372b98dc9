# Copyright (c) OpenMMLab. All rights reserved.
"""Pruning and channel-search algorithms."""
from .autoslim import AutoSlim

__all__ = ['AutoSlim']
