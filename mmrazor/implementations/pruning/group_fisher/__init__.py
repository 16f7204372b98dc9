# Copyright (c) OpenMMLab. All rights reserved.
"""Group Fisher pruning under the original MMRazor's import path.

Liu et al., "Group Fisher Pruning for Practical Network Compression",
ICML 2021. Here the Fisher information is gathered by
:class:`~mmrazor.models.mutables.GroupFisherChannelUnit` with hooks on the
dynamic ops the channel mutator converts the layers to, so the original's
``GroupFisherConv2d`` / ``GroupFisherLinear`` are those dynamic ops and
their counters are the dynamic-op counters.
"""
from mmrazor.engine.hooks import PruningStructureHook, ResourceInfoHook
from mmrazor.models.algorithms import GroupFisherAlgorithm
from mmrazor.models.algorithms.pruning import (
                                                      GroupFisherDeploySubModel,
                                                      GroupFisherSubModel,
)
from mmrazor.models.architectures.dynamic_ops import (
                                                      DynamicConv2d,
                                                      DynamicLinear,
)
from mmrazor.models.mutables import GroupFisherChannelUnit
from mmrazor.models.mutators import GroupFisherChannelMutator
from mmrazor.models.task_modules.estimators.counters import (
                                                      DynamicConv2dCounter,
                                                      DynamicLinearCounter,
)

GroupFisherConv2d = DynamicConv2d
GroupFisherLinear = DynamicLinear
GroupFisherConv2dCounter = DynamicConv2dCounter
GroupFisherLinearCounter = DynamicLinearCounter

__all__ = [
    'GroupFisherDeploySubModel', 'GroupFisherSubModel',
    'GroupFisherAlgorithm', 'GroupFisherConv2dCounter',
    'GroupFisherLinearCounter', 'PruningStructureHook', 'ResourceInfoHook',
    'GroupFisherChannelMutator', 'GroupFisherChannelUnit',
    'GroupFisherConv2d', 'GroupFisherLinear'
]
