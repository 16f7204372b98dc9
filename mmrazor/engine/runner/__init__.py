# Copyright (c) OpenMMLab. All rights reserved.
"""Loops: evolution search and subnet validation."""
from .distill_val_loop import SingleTeacherDistillValLoop
from .evolution_search_loop import EvolutionSearchLoop
from .subnet_val_loop import SubnetValLoop
from .utils import calibrate_bn_statistics

__all__ = [
    'EvolutionSearchLoop', 'SingleTeacherDistillValLoop', 'SubnetValLoop',
    'calibrate_bn_statistics'
]
