# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's import path of the configurable distillation
algorithms (``algorithms.distill.configurable``); they live in
:mod:`mmrazor.models.algorithms.distill` here."""
from .. import (
                DAFLDataFreeDistillation,
                DataFreeDistillation,
                OverhaulFeatureDistillation,
                SelfDistill,
                SingleTeacherDistill,
)

__all__ = [
    'SelfDistill', 'SingleTeacherDistill', 'DataFreeDistillation',
    'DAFLDataFreeDistillation', 'OverhaulFeatureDistillation'
]
