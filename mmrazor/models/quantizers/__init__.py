# Copyright (c) OpenMMLab. All rights reserved.
"""Quantizers: the qconfig language to torchao PT2E annotation, per backend.

They are registered without torchao; building one without it raises an
ImportError naming the ``quant`` extra.
"""
from .academic_quantizer import AcademicQuantizer
from .base import BaseQuantizer
from .native_quantizer import TorchNativeQuantizer
from .openvino_quantizer import OpenVINOQuantizer
from .qconfig import QConfigHandler
from .tensorrt_quantizer import TensorRTQuantizer

__all__ = [
    'AcademicQuantizer', 'BaseQuantizer', 'OpenVINOQuantizer',
    'QConfigHandler', 'TensorRTQuantizer', 'TorchNativeQuantizer'
]
