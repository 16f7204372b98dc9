# Copyright (c) OpenMMLab. All rights reserved.
"""Neural architecture search algorithms."""
from mmrazor.registry import MODEL_WRAPPERS

from ..pruning import AutoSlim, AutoSlimDDP
from .autoformer import Autoformer
from .bignas import BigNAS
from .darts import Darts
from .dsnas import DSNAS
from .spos import SPOS

# The original MMRazor's names at this path: AutoSlim (a pruning algorithm
# here) and the DDP wrappers registered beside each algorithm.
BigNASDDP = MODEL_WRAPPERS.get('BigNASDDP')
DartsDDP = MODEL_WRAPPERS.get('DartsDDP')
DSNASDDP = MODEL_WRAPPERS.get('DSNASDDP')

__all__ = [
    'BigNAS', 'Darts', 'DSNAS', 'SPOS', 'AutoSlim', 'AutoSlimDDP', 'BigNASDDP',
    'DartsDDP', 'DSNASDDP', 'Autoformer'
]
