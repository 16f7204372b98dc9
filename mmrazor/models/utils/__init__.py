# Copyright (c) OpenMMLab. All rights reserved.
"""Model utilities: static export and subnet building."""
from .misc import (
                   add_prefix,
                   get_module_device,
                   make_divisible,
                   parse_values,
                   reinitialize_optim_wrapper_count_status,
                   set_requires_grad,
                   str2class,
)
from .prune_export import (
                   GroupFisherDeploySubModel,
                   GroupFisherSubModel,
                   export_pruned_model,
)
from .static_model import count_mutables, export_static_model
from .sub_model import sub_model

__all__ = [
    'count_mutables', 'export_static_model', 'sub_model',
    'export_pruned_model', 'GroupFisherDeploySubModel', 'GroupFisherSubModel',
    'add_prefix', 'get_module_device', 'make_divisible', 'parse_values',
    'reinitialize_optim_wrapper_count_status', 'set_requires_grad',
    'str2class'
]
