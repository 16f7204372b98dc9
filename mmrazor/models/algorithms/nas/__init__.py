# Copyright (c) OpenMMLab. All rights reserved.
"""Neural architecture search algorithms."""
from .bignas import BigNAS
from .darts import Darts
from .dsnas import DSNAS
from .spos import SPOS

__all__ = ['BigNAS', 'Darts', 'DSNAS', 'SPOS']
