# Copyright (c) OpenMMLab. All rights reserved.
"""Per-module FLOPs counters in the original MMRazor's style.

A counter counts one module type. It is registered in ``TASK_UTILS`` as
``'<ModuleClassName>Counter'``; :func:`get_model_flops_params` finds the
counter of each module by that name, so a user's own module gets counted by
registering a :class:`BaseCounter` subclass with the matching name::

    @TASK_UTILS.register_module()
    class MyOpCounter(BaseCounter):
        @staticmethod
        def add_count_hook(module, input, output):
            module.__flops__ += output.numel()
            module.__params__ += sum(p.numel() for p in module.parameters())
"""
from abc import ABC, abstractmethod
from typing import Any, Tuple

import torch.nn as nn


class BaseCounter(ABC):
    """Base of per-module counters.

    ``add_count_hook`` runs as a forward hook of every module of the
    counter's type and adds to the module's ``__flops__`` and
    ``__params__`` (both start at 0 for each count).
    """

    @staticmethod
    @abstractmethod
    def add_count_hook(module: nn.Module, input: Tuple[Any, ...],
                       output: Any) -> None:
        """Add the FLOPs and parameters of one call of ``module``."""


def own_params(module: nn.Module) -> int:
    """Number of the module's trainable parameters (the original counted
    those with ``requires_grad``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
