# Copyright (c) OpenMMLab. All rights reserved.
"""Registries of mmrazor: children of the mmengine roots, scope ``mmrazor``."""
from .build_functions import in_mmrazor_scope
from .registry import (
                       DATA_SAMPLERS,
                       DATASETS,
                       EVALUATOR,
                       FUNCTIONS,
                       HOOKS,
                       INFERENCERS,
                       LOG_PROCESSORS,
                       LOOPS,
                       METRICS,
                       MODEL_WRAPPERS,
                       MODELS,
                       OPTIM_WRAPPER_CONSTRUCTORS,
                       OPTIM_WRAPPERS,
                       OPTIMIZERS,
                       PARAM_SCHEDULERS,
                       RUNNER_CONSTRUCTORS,
                       RUNNERS,
                       STRATEGIES,
                       TASK_UTILS,
                       TRANSFORMS,
                       VISBACKENDS,
                       VISUALIZERS,
                       WEIGHT_INITIALIZERS,
)

__all__ = [
    'in_mmrazor_scope',
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'STRATEGIES',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR',
    'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
    'INFERENCERS', 'FUNCTIONS'
]


def __getattr__(name: str):
    """``mmrazor.registry.sub_model``, the original MMRazor's import path of
    the subnet builder (it lives in :mod:`mmrazor.models.utils`, which this
    package cannot import at load time)."""
    if name == 'sub_model':
        from mmrazor.models.utils import sub_model
        return sub_model
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
