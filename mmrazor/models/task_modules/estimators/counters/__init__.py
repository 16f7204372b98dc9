# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's counters (``estimators.counters``): per-module
FLOPs counters registered in ``TASK_UTILS``, :func:`get_model_flops_params`
that applies them, and :func:`get_model_latency`."""
from .base_counter import BaseCounter
from .flops_params_counter import (
                                   counter_of,
                                   get_model_flops_params,
                                   get_model_latency,
)
from .op_counters import *  # noqa: F401,F403

__all__ = [
    'BaseCounter', 'counter_of', 'get_model_flops_params',
    'get_model_latency'
]
