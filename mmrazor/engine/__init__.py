# Copyright (c) OpenMMLab. All rights reserved.
"""Loops, hooks and optimizer constructors of mmrazor.

This package is the import location of the engine-side registries
(``LOOPS``, ``HOOKS``, ``OPTIM_WRAPPER_CONSTRUCTORS``...) of the ``mmrazor``
scope.
"""
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
