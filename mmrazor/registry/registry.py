# Copyright (c) OpenMMLab. All rights reserved.
"""Child registries of every mmengine root registry, with scope ``mmrazor``.

Each registry lists the packages that define its members in ``locations``:
mmengine imports them the first time the registry is searched, so a config
that names ``type='mmrazor.SearchableShuffleNetV2'`` resolves without any
manual import (mmengine imports ``mmrazor.registry`` for the ``mmrazor.``
scope, and this module then points it at ``mmrazor.models``).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import (
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
)
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import (
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS,
)
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import (
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS,
)
from mmengine.registry import Registry

_ENGINE = ['mmrazor.engine']
_MODELS = ['mmrazor.models']
_DATASETS = ['mmrazor.datasets']

# Runners, their constructors and the strategies they use.
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=_ENGINE)
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMENGINE_RUNNER_CONSTRUCTORS,
    locations=_ENGINE)
STRATEGIES = Registry(
    'strategy', parent=MMENGINE_STRATEGIES, locations=_ENGINE)
# Train, val, search and subnet loops.
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=_ENGINE)
# Hooks such as subnet dumping and resource estimation.
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=_ENGINE)
# Log processors.
LOG_PROCESSORS = Registry(
    'log processor', parent=MMENGINE_LOG_PROCESSORS, locations=_ENGINE)

# Datasets, their samplers and transforms.
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=_DATASETS)
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=_DATASETS)
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=_DATASETS)

# Algorithms, architectures, mutables, mutators, distillers and losses.
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=_MODELS)
# Model wrappers such as DDP wrappers.
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=_MODELS)
# Weight initializers.
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    locations=_MODELS)

# Optimizers, optimizer wrappers and their constructors.
OPTIMIZERS = Registry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, locations=_ENGINE)
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=_ENGINE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=_ENGINE)
# Learning-rate and momentum schedulers.
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=_ENGINE)

# Metrics and evaluators.
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=_ENGINE)
EVALUATOR = Registry(
    'evaluator', parent=MMENGINE_EVALUATOR, locations=_ENGINE)

# Task modules: estimators, tracers, recorders, deliveries, predictors.
TASK_UTILS = Registry(
    'task util', parent=MMENGINE_TASK_UTILS, locations=_MODELS)

# Visualizers and their backends.
VISUALIZERS = Registry(
    'visualizer', parent=MMENGINE_VISUALIZERS, locations=_ENGINE)
VISBACKENDS = Registry(
    'vis_backend', parent=MMENGINE_VISBACKENDS, locations=_ENGINE)

# Inferencers and plain functions.
INFERENCERS = Registry(
    'inferencer', parent=MMENGINE_INFERENCERS, locations=_MODELS)
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, locations=_MODELS)
