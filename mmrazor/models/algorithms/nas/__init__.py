# Copyright (c) OpenMMLab. All rights reserved.
"""Neural architecture search algorithms."""
from .autoformer import Autoformer
from .bignas import BigNAS
from .darts import Darts
from .dsnas import DSNAS
from .spos import SPOS

__all__ = ['Autoformer', 'BigNAS', 'Darts', 'DSNAS', 'SPOS']
