# Copyright (c) OpenMMLab. All rights reserved.
"""Distillation algorithms."""
from .data_free_distillation import (
    DAFLDataFreeDistillation,
    DataFreeDistillation,
)
from .overhaul_feature_distillation import OverhaulFeatureDistillation
from .self_distill import SelfDistill
from .single_teacher_distill import SingleTeacherDistill

__all__ = ['DAFLDataFreeDistillation', 'DataFreeDistillation',
           'OverhaulFeatureDistillation', 'SelfDistill',
           'SingleTeacherDistill']
