# Copyright (c) OpenMMLab. All rights reserved.
"""Demo inputs of models, by code base (MMRazor 1.0's names)."""
from .demo_inputs import (
    BaseDemoInput,
    DefaultDemoInput,
    DefaultMMClsDemoInput,
    DefaultMMDemoInput,
    DefaultMMDetDemoInput,
    DefaultMMSegDemoInput,
    defaul_demo_inputs,
)

__all__ = [
    'defaul_demo_inputs', 'DefaultMMClsDemoInput', 'DefaultMMDetDemoInput',
    'DefaultMMDemoInput', 'DefaultMMSegDemoInput', 'BaseDemoInput',
    'DefaultDemoInput'
]
