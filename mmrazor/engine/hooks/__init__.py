# Copyright (c) OpenMMLab. All rights reserved.
"""Hooks: subnet dumping, resource estimation, non-finite losses, random
states in checkpoints, progressive shrinking, and the defaults
``tools/train.py`` adds."""
from .default_hooks import DEFAULT_HOOKS, add_default_hooks
from .dmcp_subnet_hook import DMCPSubnetHook
from .dump_subnet_hook import DumpSubnetHook
from .estimate_resources_hook import EstimateResourcesHook
from .gumbel_temperature_hook import GumbelTemperatureHook
from .nonfinite_loss_hook import NonFiniteLossHook
from .progressive_shrinking_hook import ProgressiveShrinkingHook
from .pruning_hooks import PruningStructureHook, ResourceInfoHook
from .random_state_hook import RandomStateHook
from .stop_distillation_hook import StopDistillHook
from .visualization_hook import RazorVisualizationHook

__all__ = [
    'DEFAULT_HOOKS', 'DMCPSubnetHook', 'DumpSubnetHook',
    'EstimateResourcesHook',
    'GumbelTemperatureHook',
    'NonFiniteLossHook', 'ProgressiveShrinkingHook', 'PruningStructureHook',
    'RandomStateHook', 'RazorVisualizationHook',
    'ResourceInfoHook', 'StopDistillHook',
    'add_default_hooks'
]
