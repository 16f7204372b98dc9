# Copyright (c) OpenMMLab. All rights reserved.
"""Resource estimators: FLOPs, parameters, latency and cost tables."""
from . import counters  # noqa: F401  (registers the original's counters)
from .cost_table import SubnetCostTable
from .flops_params_counter import (
    OP_COUNTERS,
    CountResult,
    count_flops_params,
    default_forward,
)
from .latency_counter import measure_latency
from .resource_estimator import (
    DEFAULT_ESTIMATOR_CFG,
    ResourceEstimator,
    build_estimator,
)

__all__ = [
    'ResourceEstimator', 'SubnetCostTable', 'CountResult', 'OP_COUNTERS',
    'count_flops_params', 'default_forward', 'measure_latency',
    'DEFAULT_ESTIMATOR_CFG', 'build_estimator'
]
