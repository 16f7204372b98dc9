# Copyright (c) OpenMMLab. All rights reserved.
"""Pruning and channel-search algorithms."""
from .autoslim import AutoSlim
from .dcff import DCFF
from .group_fisher_algorithm import GroupFisherAlgorithm
from .ite_prune_algorithm import ItePruneAlgorithm
from .slimmable_network import SlimmableNetwork

__all__ = [
    'AutoSlim', 'DCFF', 'GroupFisherAlgorithm', 'ItePruneAlgorithm',
    'SlimmableNetwork'
]
