# Copyright (c) OpenMMLab. All rights reserved.
"""Distillation algorithms."""
from .overhaul_feature_distillation import OverhaulFeatureDistillation
from .self_distill import SelfDistill
from .single_teacher_distill import SingleTeacherDistill

__all__ = ['OverhaulFeatureDistillation', 'SelfDistill',
           'SingleTeacherDistill']
