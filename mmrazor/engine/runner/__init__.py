# Copyright (c) OpenMMLab. All rights reserved.
"""Loops: evolution and greedy search, subnet validation."""
from .autoslim_greedy_search_loop import AutoSlimGreedySearchLoop
from .darts_loop import DartsEpochBasedTrainLoop, DartsIterBasedTrainLoop
from .distill_val_loop import SelfDistillValLoop, SingleTeacherDistillValLoop
from .evolution_search_loop import EvolutionSearchLoop
from .prune_val_loop import ItePruneValLoop
from .quantization_loops import (
    LSQEpochBasedLoop,
    PTQLoop,
    QATEpochBasedLoop,
    QATValLoop,
)
from .subnet_val_loop import AutoSlimValLoop, SlimmableValLoop, SubnetValLoop
from .utils import calibrate_bn_statistics

__all__ = [
    'AutoSlimGreedySearchLoop', 'AutoSlimValLoop', 'DartsEpochBasedTrainLoop',
    'DartsIterBasedTrainLoop', 'EvolutionSearchLoop',
    'ItePruneValLoop', 'LSQEpochBasedLoop', 'PTQLoop', 'QATEpochBasedLoop',
    'QATValLoop',
    'SelfDistillValLoop', 'SingleTeacherDistillValLoop', 'SlimmableValLoop',
    'SubnetValLoop',
    'calibrate_bn_statistics'
]
