# Copyright (c) OpenMMLab. All rights reserved.
"""Model utilities: static export and subnet building."""
from .prune_export import (
    GroupFisherDeploySubModel,
    GroupFisherSubModel,
    export_pruned_model,
)
from .static_model import count_mutables, export_static_model
from .sub_model import sub_model

__all__ = [
    'count_mutables', 'export_static_model', 'sub_model',
    'export_pruned_model', 'GroupFisherDeploySubModel', 'GroupFisherSubModel'
]
