# Copyright (c) OpenMMLab. All rights reserved.
"""Distillers: compute distillation losses from recorded features."""
from .configurable_distiller import ConfigurableDistiller

__all__ = ['ConfigurableDistiller']
