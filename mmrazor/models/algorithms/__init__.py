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
from .nas import (
    DSNAS,
    DSNASDDP,
    SPOS,
    Autoformer,
    BigNAS,
    BigNASDDP,
    Darts,
    DartsDDP,
)
from .pruning import (
    DCFF,
    DMCP,
    DMCPDDP,
    AutoSlim,
    AutoSlimDDP,
    GroupFisherAlgorithm,
    ItePruneAlgorithm,
    SlimmableNetwork,
    SlimmableNetworkDDP,
)
from .quantization import *  # noqa: F401,F403
from .quantization import __all__ as _quantization_all

__all__ = [
    'AutoSlim', 'Autoformer', 'BaseAlgorithm', 'BigNAS',
    'DAFLDataFreeDistillation',
    'DataFreeDistillation',
    'OverhaulFeatureDistillation', 'SelfDistill',
    'SingleTeacherDistill', 'SlimmableNetwork', 'SPOS', 'DCFF',
    'GroupFisherAlgorithm', 'ItePruneAlgorithm', 'Darts', 'DSNAS',
    'AutoSlimDDP', 'SlimmableNetworkDDP', 'BigNASDDP', 'DartsDDP', 'DSNASDDP',
    'DMCP', 'DMCPDDP'
] + _quantization_all
