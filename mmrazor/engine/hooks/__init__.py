# Copyright (c) OpenMMLab. All rights reserved.
"""Hooks: subnet dumping and resource estimation."""
from .dump_subnet_hook import DumpSubnetHook
from .estimate_resources_hook import EstimateResourcesHook
from .stop_distillation_hook import StopDistillHook

__all__ = ['DumpSubnetHook', 'EstimateResourcesHook', 'StopDistillHook']
