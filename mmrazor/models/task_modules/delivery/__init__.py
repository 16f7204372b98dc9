# Copyright (c) OpenMMLab. All rights reserved.
"""Deliveries: replay a teacher's function or method outputs in the student."""
from .delivery_manager import DistillDeliveryManager
from .distill_delivery import DistillDelivery
from .function_outputs_delivery import FunctionOutputsDelivery
from .method_outputs_delivery import MethodOutputsDelivery

__all__ = [
    'DistillDelivery', 'FunctionOutputsDelivery', 'MethodOutputsDelivery',
    'DistillDeliveryManager'
]
