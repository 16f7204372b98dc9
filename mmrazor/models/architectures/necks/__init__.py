# Copyright (c) OpenMMLab. All rights reserved.
"""Necks of searchable models."""
from .squeeze_mean_pooling_with_dropout import SqueezeMeanPoolingWithDropout

__all__ = ['SqueezeMeanPoolingWithDropout']
