# Copyright (c) OpenMMLab. All rights reserved.
"""Recorders of intermediate results, and the manager that builds them."""
from .base_recorder import BaseRecorder
from .callable_recorders import (
    FunctionInputsRecorder,
    FunctionOutputsRecorder,
    MethodInputsRecorder,
    MethodOutputsRecorder,
)
from .module_recorders import (
    ModuleInputsRecorder,
    ModuleOutputsRecorder,
    ParameterRecorder,
)
from .recorder_manager import RecorderManager

__all__ = [
    'BaseRecorder', 'ModuleOutputsRecorder', 'ModuleInputsRecorder',
    'MethodOutputsRecorder', 'MethodInputsRecorder',
    'FunctionOutputsRecorder', 'FunctionInputsRecorder', 'ParameterRecorder',
    'RecorderManager'
]
