# Copyright (c) OpenMMLab. All rights reserved.
"""Quantization algorithms (torch.export + torchao PT2E).

Registered without torchao; building one without it raises an ImportError
naming the ``quant`` extra. The deployment and sensitivity helpers
(``deploy``, ``sensitivity``) import torchao when imported.
"""
from mmengine.model import MMDistributedDataParallel

from mmrazor.registry import MODEL_WRAPPERS

from .mm_architecture import MMArchitectureQuant

# The original's DDP wrapper name: mmengine's wrapper does the work (the
# loss and predict modes run on the same graph as the tensor mode).
MMArchitectureQuantDDP = MODEL_WRAPPERS.register_module(
    name='MMArchitectureQuantDDP', module=MMDistributedDataParallel)

__all__ = ['MMArchitectureQuant', 'MMArchitectureQuantDDP']
