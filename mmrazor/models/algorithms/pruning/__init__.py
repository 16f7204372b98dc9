# Copyright (c) OpenMMLab. All rights reserved.
"""Pruning and channel-search algorithms."""
from .autoslim import AutoSlim
from .slimmable_network import SlimmableNetwork

__all__ = ['AutoSlim', 'SlimmableNetwork']
