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
from .prune_export import export_pruned_model
from .static_model import count_mutables, export_static_model
from .sub_model import sub_model

__all__ = [
    'count_mutables', 'export_static_model', 'sub_model',
    'export_pruned_model', 'GroupFisherDeploySubModel', 'GroupFisherSubModel',
    'add_prefix', 'get_module_device', 'make_divisible', 'parse_values',
    'reinitialize_optim_wrapper_count_status', 'set_requires_grad',
    'str2class'
]

# The builders of pruned models moved to the pruning algorithms; this path
# keeps working (imported on first use: the algorithms import this package).
_MOVED = ('GroupFisherDeploySubModel', 'GroupFisherSubModel')


def __getattr__(name: str):
    if name in _MOVED:
        from ..algorithms.pruning import pruned_sub_models
        return getattr(pruned_sub_models, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
