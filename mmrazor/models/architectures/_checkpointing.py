# Copyright (c) OpenMMLab. All rights reserved.
"""Activation checkpointing and train-mode helpers shared by backbones."""
import contextlib
from functools import partial
from typing import Any, Callable, Iterable, Iterator

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint


@contextlib.contextmanager
def frozen_norm_statistics(module: nn.Module) -> Iterator[None]:
    """Restore the running statistics of ``module``'s norm layers on exit,
    so that a checkpointed block's recomputation does not update them a
    second time."""
    norms = [m for m in module.modules() if isinstance(m, _BatchNorm)]
    saved = [{k: v.clone() for k, v in m.named_buffers()} for m in norms]
    try:
        yield
    finally:
        for norm, buffers in zip(norms, saved):
            for name, value in buffers.items():
                getattr(norm, name).copy_(value)


def _contexts(block: nn.Module) -> tuple:
    return contextlib.nullcontext(), frozen_norm_statistics(block)


def checkpointed(block: nn.Module, fn: Callable, *args: Any) -> Any:
    """Run ``fn(*args)`` under activation checkpointing; ``block``'s norm
    statistics are updated by the forward pass only."""
    return checkpoint(
        fn, *args, use_reentrant=False, context_fn=partial(_contexts, block))


def freeze(modules: Iterable[nn.Module]) -> None:
    """Put ``modules`` in eval mode and stop their parameters' gradients."""
    for module in modules:
        module.eval()
        for param in module.parameters():
            param.requires_grad = False


def norms_to_eval(module: nn.Module) -> None:
    """Put every batch norm of ``module`` in eval mode."""
    for m in module.modules():
        if isinstance(m, _BatchNorm):
            m.eval()
