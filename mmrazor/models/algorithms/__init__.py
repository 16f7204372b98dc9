# Copyright (c) OpenMMLab. All rights reserved.
"""Algorithms: wrap a model and change how it trains."""
from .base import BaseAlgorithm
from .distill import (
    DAFLDataFreeDistillation,
    DataFreeDistillation,
    OverhaulFeatureDistillation,
    SelfDistill,
    SingleTeacherDistill,
)
from .nas import SPOS, Autoformer, BigNAS
from .pruning import (
    DCFF,
    AutoSlim,
    GroupFisherAlgorithm,
    ItePruneAlgorithm,
    SlimmableNetwork,
)
from .quantization import *  # noqa: F401,F403
from .quantization import __all__ as _quantization_all

__all__ = [
    'AutoSlim', 'Autoformer', 'BaseAlgorithm', 'BigNAS',
    'DAFLDataFreeDistillation',
    'DataFreeDistillation',
    'OverhaulFeatureDistillation', 'SelfDistill',
    'SingleTeacherDistill', 'SlimmableNetwork', 'SPOS', 'DCFF',
    'GroupFisherAlgorithm', 'ItePruneAlgorithm'
] + _quantization_all
