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
from .nas import SPOS
from .pruning import AutoSlim, SlimmableNetwork

__all__ = [
    'AutoSlim', 'BaseAlgorithm', 'DAFLDataFreeDistillation',
    'DataFreeDistillation',
    'OverhaulFeatureDistillation', 'SelfDistill',
    'SingleTeacherDistill', 'SlimmableNetwork', 'SPOS'
]
