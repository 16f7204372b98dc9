# Copyright (c) OpenMMLab. All rights reserved.
"""Metric predictors: score subnets from their choices during a search."""
from .handler import (
    BaseHandler,
    CartsHandler,
    GaussProcessHandler,
    MLPHandler,
    RBFHandler,
)
from .metric_predictor import MetricPredictor

__all__ = [
    'BaseHandler', 'CartsHandler', 'GaussProcessHandler', 'MLPHandler',
    'MetricPredictor', 'RBFHandler'
]
