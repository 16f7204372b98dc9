# Copyright (c) OpenMMLab. All rights reserved.
"""Pruning and channel-search algorithms."""
from mmengine.model import MMDistributedDataParallel

from mmrazor.registry import MODEL_WRAPPERS

from .autoslim import AutoSlim
from .dcff import DCFF
from .dmcp import DMCP
from .group_fisher_algorithm import GroupFisherAlgorithm
from .ite_prune_algorithm import ItePruneAlgorithm
from .pruned_sub_models import GroupFisherDeploySubModel, GroupFisherSubModel
from .slimmable_network import SlimmableNetwork

# The original MMRazor's DDP wrapper names: both algorithms compute all
# their subnets' losses in one ``loss`` call, which mmengine's wrapper runs.
AutoSlimDDP = SlimmableNetworkDDP = MMDistributedDataParallel
MODEL_WRAPPERS.register_module(
    name=['AutoSlimDDP', 'SlimmableNetworkDDP'],
    module=MMDistributedDataParallel)
DMCPDDP = MODEL_WRAPPERS.get('DMCPDDP')

__all__ = [
    'AutoSlim', 'DCFF', 'DMCP', 'DMCPDDP', 'GroupFisherAlgorithm',
    'ItePruneAlgorithm',
    'SlimmableNetwork', 'AutoSlimDDP', 'SlimmableNetworkDDP',
    'GroupFisherDeploySubModel', 'GroupFisherSubModel'
]
