# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's ``mmrazor.implementations`` import path.

Its algorithms live in :mod:`mmrazor.models` and :mod:`mmrazor.engine`
here; these packages re-export them under the original's paths."""
from . import pruning

__all__ = ['pruning']
