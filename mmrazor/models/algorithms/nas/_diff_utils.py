# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers of the differentiable NAS algorithms (DARTS, DSNAS)."""
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor


def grads_or_zeros(loss: Tensor, params: Sequence[Tensor],
                   zeros: bool = True) -> List[Optional[Tensor]]:
    """``d loss / d params`` by ``torch.autograd.grad`` (no ``.grad`` is
    written); a parameter the loss does not reach gets zeros (or None with
    ``zeros=False``)."""
    needed = [p for p in params if p.requires_grad]
    if not loss.requires_grad or not needed:
        got: Sequence[Optional[Tensor]] = [None] * len(needed)
    else:
        got = torch.autograd.grad(loss, needed, allow_unused=True)
    by_id = {id(p): g for p, g in zip(needed, got)}
    result = []
    for p in params:
        g = by_id.get(id(p))
        if g is None and zeros:
            g = torch.zeros_like(p)
        result.append(g)
    return result


def all_reduce_mean(tensors: List[Optional[Tensor]]
                    ) -> List[Optional[Tensor]]:
    """Average the tensors over the ranks (in place); a no-op when not
    distributed. None entries stay None (they must be None on every
    rank)."""
    if not (dist.is_available() and dist.is_initialized()) or \
            dist.get_world_size() == 1:
        return tensors
    world = dist.get_world_size()
    for t in tensors:
        if t is not None:
            dist.all_reduce(t)
            t.div_(world)
    return tensors


@contextmanager
def kept_buffers(module: nn.Module) -> Iterator[None]:
    """Restore every buffer (BN running statistics) of ``module`` on exit:
    the extra forward passes of an architecture step do not count."""
    saved = [(b, b.detach().clone()) for b in module.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)


def optim_wrappers(owner: Any, optim_wrapper: Any
                   ) -> Tuple[OptimWrapper, OptimWrapper]:
    """The ``architecture`` and ``mutator`` wrappers, or a clear error."""
    keys = list(optim_wrapper.keys()) if isinstance(
        optim_wrapper, OptimWrapperDict) else None
    if keys is None or not {'architecture', 'mutator'} <= set(keys):
        raise TypeError(
            f'{type(owner).__name__}.train_step needs an OptimWrapperDict '
            "with 'architecture' (weights) and 'mutator' (architecture "
            f'parameters) wrappers, but got {type(optim_wrapper).__name__} '
            f"with keys {keys}; in a config, set optim_wrapper=dict("
            "constructor='mmrazor.SeparateOptimWrapperConstructor', "
            'architecture=dict(optimizer=...), mutator=dict(optimizer=...))')
    return optim_wrapper['architecture'], optim_wrapper['mutator']


def prefixed(logs: Dict[str, Tensor], prefix: str) -> Dict[str, Tensor]:
    """``{f'{prefix}.{key}': value}``."""
    return {f'{prefix}.{k}': v for k, v in logs.items()}
