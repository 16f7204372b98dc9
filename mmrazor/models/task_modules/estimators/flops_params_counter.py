# Copyright (c) OpenMMLab. All rights reserved.
"""FLOPs and parameters of one forward, counted the way MMRazor 1.x counts.

Conventions (those of mmcv's ``get_model_complexity_info`` and of the
original MMRazor ``ResourceEstimator``, whose SPOS and ResNet figures they
reproduce):

- **FLOPs are multiply-accumulates (MACs).** Convolutions (also transposed
  and grouped ones), ``nn.Linear`` and every matrix product (``mm``,
  ``addmm``, ``bmm``, ``baddbmm``, scaled dot-product attention) are counted
  by torch's own :class:`torch.utils.flop_counter.FlopCounterMode`, which
  reports 2 FLOPs per MAC; the count here is half of it.
- On top of these, a small table of module types, applied with forward
  hooks, adds:

  ============  ==============================================  ===========
  counter       modules                                         adds
  ============  ==============================================  ===========
  conv_bias     convolutions with a bias                        output numel
  norm          BatchNorm, SyncBatchNorm, InstanceNorm,         input numel,
                GroupNorm, LayerNorm                            x2 if affine
  activation    ReLU, ReLU6, PReLU, ELU, LeakyReLU              output numel
  pooling       max/avg pooling, adaptive ones too              input numel
  upsample      ``nn.Upsample`` (and the Upsampling* aliases)   output numel
  ============  ==============================================  ===========

- Not counted, as in the original: the bias of ``nn.Linear``, other
  activations (GELU, SiLU, Sigmoid, Hardswish, ...), softmax, and functional
  element-wise ops (``x + y``, ``torch.cat``, ``chunk``, channel shuffle).
  Unlike the original, functional matrix products (attention) are counted,
  and LayerNorm with ``elementwise_affine`` counts x2 as mmcv does.
- FLOPs are per sample: the count of the forward is divided by the batch
  size (the first entry of the input shape).
- **Parameters** are those of the modules whose forward ran, each counted
  once: a supernet at its current subnet reports the parameters of its
  current path only, the same as its static export; a dynamic op counts
  the parameters of its current sub-shape, and a module with an
  ``active_own_params()`` method the tensors it returns in place of its
  own parameters. A parameter that only
  a module's parent reads (``F.conv2d(x, self.conv.weight)``) is missed when
  ``self.conv`` itself never runs. Frozen parameters count too (the original
  skipped those with ``requires_grad=False``).

For the SPOS ShuffleNetV2 subnet of ``configs/nas/mmcls/spos/SPOS_SUBNET.yaml``
at 224x224 this gives 327,544,320 FLOPs (327.544 M; published 0.33 G), the
original MMRazor's count: 314,995,520 conv MACs, 1,024,000 FC MACs (together
316.02 M, the paper's "319M" convention), 8,529,920 for BN, 2,944,704 for
ReLU and 50,176 for the global average pooling; and 3,353,592 parameters
(3.35 M).

The forward runs on the ``meta`` device by default: parameters and buffers
are swapped for meta tensors with :func:`torch.func.functional_call` (the
model is neither copied nor changed), so nothing is computed or allocated;
ops whose meta kernels are slow are answered from shapes
(:mod:`.meta_shortcuts`).
A model that fails on meta (data-dependent code, tensors created on another
device) is counted with a real forward instead, after a warning in the log.
"""
import contextlib
import functools
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from torch.func import functional_call
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd
from torch.nn.modules.instancenorm import _InstanceNorm
from torch.nn.modules.pooling import (
    _AdaptiveAvgPoolNd,
    _AdaptiveMaxPoolNd,
    _AvgPoolNd,
    _MaxPoolNd,
)
from torch.utils.flop_counter import FlopCounterMode

from .meta_shortcuts import MetaShortcuts

ForwardFn = Callable[[nn.Module, torch.Tensor], Any]
OpCounter = Callable[[nn.Module, tuple, Any], float]


def _first_numel(inputs: tuple) -> int:
    return inputs[0].numel() if inputs and torch.is_tensor(
        inputs[0]) else 0


def _out_numel(output: Any) -> int:
    return output.numel() if torch.is_tensor(output) else 0


def _conv_bias(module: nn.Module, inputs: tuple, output: Any) -> int:
    return _out_numel(output) if module.bias is not None else 0


def _norm(module: nn.Module, inputs: tuple, output: Any) -> int:
    affine = (getattr(module, 'affine', False)
              or getattr(module, 'elementwise_affine', False))
    return _first_numel(inputs) * (2 if affine else 1)


def _activation(module: nn.Module, inputs: tuple, output: Any) -> int:
    return _out_numel(output)


def _pooling(module: nn.Module, inputs: tuple, output: Any) -> int:
    return _first_numel(inputs)


# name -> (module types, what one call adds); the first match wins.
OP_COUNTERS: Dict[str, Tuple[Tuple[type, ...], OpCounter]] = {
    'conv_bias': ((_ConvNd, ), _conv_bias),
    'norm': ((_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm), _norm),
    'activation': ((nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU),
                   _activation),
    'pooling': ((_MaxPoolNd, _AvgPoolNd, _AdaptiveAvgPoolNd,
                 _AdaptiveMaxPoolNd), _pooling),
    'upsample': ((nn.Upsample, ), _activation),
}


@dataclass
class CountResult:
    """What one counted forward found.

    Args:
        flops (float): MACs of the whole batch (not divided by its size).
        params (int): Parameters of the modules whose forward ran.
        on_meta (bool): Whether the forward ran on the meta device.
        output (Any): Shapes of what the forward returned (see
            :func:`tensor_spec`).
        calls (dict): For each watched module (by ``id``), one
            ``(input spec, output spec)`` per call, the input being the first
            positional argument.
    """
    flops: float
    params: int
    on_meta: bool
    output: Any = None
    calls: Dict[int, List[Tuple[Any, Any]]] = field(default_factory=dict)


def tensor_spec(obj: Any) -> Any:
    """Replace every tensor in ``obj`` (nested tuples, lists, dicts) by its
    ``(shape, dtype)``; anything else becomes its type name."""
    if torch.is_tensor(obj):
        return tuple(obj.shape), obj.dtype
    if isinstance(obj, (tuple, list)):
        return tuple(tensor_spec(o) for o in obj)
    if isinstance(obj, dict):
        return tuple((k, tensor_spec(v)) for k, v in obj.items())
    return type(obj).__name__


def default_forward(model: nn.Module, inputs: torch.Tensor) -> Any:
    """Call ``model(inputs, mode='tensor')`` for an mmengine ``BaseModel``
    (a classifier, an algorithm), else ``model(inputs)``."""
    from mmengine.model import BaseModel
    if isinstance(model, BaseModel):
        return model(inputs, mode='tensor')
    return model(inputs)


def model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of the first floating-point parameter, else float32."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def model_device(model: nn.Module) -> torch.device:
    """The device of the first parameter or buffer, else the CPU."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device('cpu')


class _Call(nn.Module):
    """Lets ``functional_call`` run ``forward_fn(model, inputs)``."""

    def __init__(self, model: nn.Module, forward_fn: ForwardFn) -> None:
        super().__init__()
        self.model = model
        self.forward_fn = forward_fn

    def forward(self, inputs: torch.Tensor) -> Any:
        return self.forward_fn(self.model, inputs)


def count_flops_params(model: nn.Module,
                       input_shape: Sequence[int],
                       forward_fn: ForwardFn = default_forward,
                       dtype: Optional[torch.dtype] = None,
                       use_meta: bool = True,
                       disabled_counters: Sequence[str] = (),
                       custom_counters: Optional[Dict[type,
                                                      OpCounter]] = None,
                       watch: Sequence[nn.Module] = ()) -> CountResult:
    """Count the MACs and parameters of one forward of ``model``.

    Every module runs in eval mode (its ``training`` flag is cleared
    directly, so no ``train()`` override keeps a norm layer updating its
    statistics), without gradients; the flags are restored afterwards.

    Args:
        model (nn.Module): The model.
        input_shape (Sequence[int]): Shape of the input, batch included.
        forward_fn (Callable): ``forward_fn(model, inputs)`` runs the
            forward. Defaults to :func:`default_forward`.
        dtype (torch.dtype, optional): Dtype of the input. Defaults to None:
            that of the model's parameters.
        use_meta (bool): Whether to try the meta device first. Defaults to
            True.
        disabled_counters (Sequence[str]): Names in :data:`OP_COUNTERS` to
            leave out. Defaults to ().
        custom_counters (dict, optional): ``{module type: fn(module, inputs,
            output) -> FLOPs}`` added on top of what torch counts inside
            those modules; checked before :data:`OP_COUNTERS`. Defaults to
            None.
        watch (Sequence[nn.Module]): Modules whose calls to record in
            ``CountResult.calls``. Defaults to ().

    Returns:
        CountResult: The counts.
    """
    kwargs = dict(
        forward_fn=forward_fn,
        dtype=dtype or model_dtype(model),
        table=_op_table(disabled_counters, custom_counters),
        watch={id(m) for m in watch})
    if use_meta:
        try:
            return _count(model, input_shape, on_meta=True, **kwargs)
        except Exception as err:  # whatever fails on meta falls back
            print_log(
                f'ResourceEstimator: the forward of {type(model).__name__} '
                f'failed on the meta device ({type(err).__name__}: {err}); '
                f'counting with a real forward on {model_device(model)} '
                'instead.',
                logger='current',
                level=logging.WARNING)
    try:
        return _count(model, input_shape, on_meta=False, **kwargs)
    except (RuntimeError, ValueError, TypeError, IndexError) as err:
        raise type(err)(
            f'ResourceEstimator: the forward of {type(model).__name__} on an '
            f'input of shape {tuple(input_shape)} (input_shape, batch first) '
            f'failed: {err}. Check that input_shape matches what the model '
            'takes, e.g. (1, 3, 224, 224) for an image classifier.') from err


def _op_table(disabled: Sequence[str],
              custom: Optional[Dict[type, OpCounter]]) -> List:
    """The ordered ``(types, fn)`` list that the hooks consult."""
    table = [((t, ), fn) for t, fn in (custom or {}).items()]
    table += [v for k, v in OP_COUNTERS.items() if k not in disabled]
    return table


def _count(model: nn.Module, input_shape: Sequence[int], on_meta: bool,
           forward_fn: ForwardFn, dtype: torch.dtype, table: List,
           watch: set) -> CountResult:
    """One counted forward, on meta tensors or on real ones."""
    executed: Dict[int, nn.Module] = {}
    calls: Dict[int, List[Tuple[Any, Any]]] = {}
    extra = [0.0]
    by_type: Dict[type, Optional[OpCounter]] = {}

    def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
        executed[id(module)] = module
        cls = type(module)
        if cls not in by_type:
            by_type[cls] = next(
                (fn for types, fn in table if issubclass(cls, types)), None)
        fn = by_type[cls]
        if fn is not None:
            extra[0] += fn(module, inputs, output)
        if id(module) in watch:
            first = inputs[0] if inputs else None
            calls.setdefault(id(module), []).append(
                (tensor_spec(first), tensor_spec(output)))

    if on_meta:
        inputs = torch.empty(tuple(input_shape), dtype=dtype, device='meta')
        state = {
            f'model.{name}': torch.empty_like(t, device='meta')
            for name, t in (*model.named_parameters(), *model.named_buffers())
        }
        run = functools.partial(functional_call, _Call(model, forward_fn),
                                state, (inputs, ))
        shortcuts = MetaShortcuts()
    else:
        inputs = torch.rand(
            tuple(input_shape), dtype=dtype, device=model_device(model))
        run = functools.partial(forward_fn, model, inputs)
        shortcuts = contextlib.nullcontext()
    # Modules in training mode, switched to eval for the forward.
    training = [m for m in model.modules() if m.training]
    handles = [m.register_forward_hook(hook) for m in model.modules()]
    counter = FlopCounterMode(display=False)
    try:
        for module in training:
            module.training = False
        # The counter on top: it counts, then hands each op to the shortcuts.
        with torch.no_grad(), shortcuts, counter:
            output = run()
    finally:
        for handle in handles:
            handle.remove()
        for module in training:
            module.training = True
    seen = set()
    params = 0
    for module in executed.values():
        own = list(module.parameters(recurse=False))
        active_own = getattr(module, 'active_own_params', None)
        if own and callable(active_own):
            # a module slicing its own parameters (a supernet's position
            # embedding): the slices it uses now
            seen.update(id(p) for p in own)
            params += sum(t.numel() for t in active_own())
            continue
        if own and hasattr(module, 'mutable_attrs') and \
                hasattr(module, 'to_static_op'):
            # a dynamic op: the parameters of its current sub-shape, as in
            # its static export
            seen.update(id(p) for p in own)
            params += sum(p.numel()
                          for p in module.to_static_op().parameters())
            continue
        for p in own:
            if id(p) not in seen:
                seen.add(id(p))
                params += p.numel()
    return CountResult(
        flops=counter.get_total_flops() / 2 + extra[0],
        params=params,
        on_meta=on_meta,
        output=tensor_spec(output),
        calls=calls)
