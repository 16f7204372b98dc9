# Copyright (c) OpenMMLab. All rights reserved.
"""Fast shape-only results for ops whose meta kernels are slow.

On the meta device, torch infers the output of some common ops by running
their Python decompositions: about 5 ms for an eval-mode batch norm and 2 to
10 ms for GELU, ReLU6 (``hardtanh``) or Hardswish, against well under 1 ms
for a convolution. A counting forward only needs the shapes, so
:class:`MetaShortcuts` answers these ops directly with empty meta tensors of
the right shape, strides and dtype (the tests compare them with torch's own
meta kernels). Any other op, and any op on a non-meta tensor, runs normally.
"""
from typing import Any, Callable, Dict, Tuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def _stats_dtype(x: torch.Tensor) -> torch.dtype:
    """Norm statistics are kept in float32 for half-precision inputs."""
    low = (torch.float16, torch.bfloat16)
    return torch.float32 if x.dtype in low else x.dtype


def _like(x: torch.Tensor, *args: Any) -> torch.Tensor:
    return torch.empty_like(x)


def _same(x: torch.Tensor, *args: Any) -> torch.Tensor:
    return x


def _batch_norm(x: torch.Tensor, *args: Any) -> Tuple[torch.Tensor, ...]:
    stats = x.new_empty((x.shape[1], ), dtype=_stats_dtype(x))
    return torch.empty_like(x), stats, stats.clone()


def _layer_norm(x: torch.Tensor, normalized_shape: Any,
                *args: Any) -> Tuple[torch.Tensor, ...]:
    axis = x.dim() - len(normalized_shape)
    shape = tuple(x.shape[:axis]) + (1, ) * len(normalized_shape)
    stats = x.new_empty(shape, dtype=_stats_dtype(x))
    # The output is contiguous whatever the input's layout.
    return x.new_empty(x.shape), stats, stats.clone()


def _group_norm(x: torch.Tensor, weight: Any, bias: Any, n: int, c: int,
                hxw: int, group: int, *args: Any) -> Tuple[torch.Tensor, ...]:
    stats = x.new_empty((n, group), dtype=x.dtype)
    return torch.empty_like(x), stats, stats.clone()


def _ops(names: Tuple[str, ...], fn: Callable) -> Dict[Any, Callable]:
    """``{aten overload: fn}`` for the names this torch build has."""
    table = {}
    for name in names:
        packet = getattr(aten, name, None)
        if packet is not None:
            table[packet.default] = fn
    return table


# Unary element-wise ops: the output is laid out like the input.
UNARY = ('relu', 'hardtanh', 'gelu', 'hardswish', 'hardsigmoid', 'elu',
         'leaky_relu', 'mish', 'silu', 'sigmoid', 'tanh', '_prelu_kernel')
SHORTCUTS: Dict[Any, Callable] = {
    **_ops(UNARY, _like),
    **_ops(tuple(f'{name}_' for name in UNARY), _same),
    **_ops(('native_batch_norm', '_native_batch_norm_legit_no_training'),
           _batch_norm),
    **_ops(('native_layer_norm', ), _layer_norm),
    **_ops(('native_group_norm', ), _group_norm),
}


class MetaShortcuts(TorchDispatchMode):
    """Answers the ops of :data:`SHORTCUTS` on meta tensors from shapes
    alone.

    Enter it before (below) a ``FlopCounterMode``: the counter sees each op
    first and passes it down here, and the empty outputs made here then
    bypass both modes.
    """

    def __torch_dispatch__(self,
                           func: Any,
                           types: Any,
                           args: tuple = (),
                           kwargs: Any = None) -> Any:
        fn = SHORTCUTS.get(func)
        if fn is not None and args and getattr(args[0], 'is_meta', False):
            return fn(*args, *(kwargs or {}).values())
        return func(*args, **(kwargs or {}))
