# Copyright (c) OpenMMLab. All rights reserved.
"""The channel tracer: a real forward under a ``TorchFunctionMode``.

Every torch function, tensor method and property access of the forward
reaches :meth:`ChannelTracer.__torch_function__` with its arguments and
result. The tracer keeps, for each tensor derived from the traced input,
an :class:`Info`: which dim holds channels and which channel segments (see
:mod:`._graph`) it carries; the rules of :mod:`._rules` update it op by op.

Modules are not hooked as opaque leaves: a module op is recognised from the
functional call it makes with its own parameters (``F.conv2d(x,
self.weight, ...)``, ``F.batch_norm(x, ..., self.weight, ...)``), so
subclasses with their own ``forward`` (mmcls's ``LayerNorm2d``, mmcv's
``Conv2dAdaptivePadding``) need no special case. Two global forward hooks
(for the traced forward only) keep the stack of running modules, to name
them in reports.
"""
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakIdKeyDictionary

from ._graph import ChannelGraph, Event, Segs
from ._ops import Info, Op, RuleSet, TraceError, iter_tensors, op_key, op_name

MODEL_INPUT = 'the model input'


def _has_tensor(out: Any) -> bool:
    return isinstance(out, Tensor) or (isinstance(out, (tuple, list)) and any(
        isinstance(o, Tensor) for o in out))


class ChannelTracer(TorchFunctionMode):
    """Follows channels through one forward of ``model``.

    Args:
        model (nn.Module): The traced model; its parameter and buffer names
            attribute module ops and name constants in reports.
        rules (RuleSet): The op rules.
    """

    def __init__(self, model: nn.Module, rules: RuleSet) -> None:
        super().__init__()
        self.graph = ChannelGraph()
        self.infos = WeakIdKeyDictionary()
        self.origins = WeakIdKeyDictionary()
        self.rules = rules.rules
        self.fallback = rules.fallback
        self.always = rules.always
        self.no_output = rules.no_output
        self._keys: Dict[Callable, str] = {}
        self.owners: Dict[int, str] = {}
        for name, module in model.named_modules():
            tensors = list(module._parameters.items()) + list(
                module._buffers.items())
            for pname, t in tensors:
                if t is None:
                    continue
                self.owners.setdefault(id(t), name)
                qualified = f'{name}.{pname}' if name else pname
                self.origins[t] = f'parameter/buffer {qualified!r}'
        self.stack: List[str] = []
        self.failed_op: Optional[str] = None
        self._names = {id(m): n for n, m in model.named_modules()}
        # Two global hooks (for this forward only) instead of two per module.
        self._handles: List[Any] = [
            nn.modules.module.register_module_forward_pre_hook(self._push),
            nn.modules.module.register_module_forward_hook(self._pop),
        ]

    # -- module stack -----------------------------------------------------
    def _push(self, module: nn.Module, args: Any) -> None:
        name = self._names.get(id(module))
        if name is not None:
            self.stack.append(name)

    def _pop(self, module: nn.Module, args: Any, out: Any) -> None:
        if id(module) in self._names and self.stack:
            self.stack.pop()

    def remove_hooks(self) -> None:
        """Remove the module hooks (call once the forward is over)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    @property
    def module(self) -> Optional[str]:
        """The innermost running module, None at the top level."""
        if not self.stack:
            return None
        return self.stack[-1] or None

    # -- helpers for the rules -------------------------------------------
    def get(self, t: Any) -> Optional[Info]:
        """The info of a tensor, None if it carries no traced channels."""
        return self.infos.get(t) if isinstance(t, Tensor) else None

    def set(self, t: Tensor, info: Optional[Info]) -> None:
        """Set (or clear, with None) the info of a tensor."""
        if info is None or not info.segs:
            self.infos.pop(t, None)
        else:
            self.infos[t] = info

    def owner(self, t: Any) -> Optional[str]:
        """The module owning a parameter or buffer, else None."""
        return self.owners.get(id(t)) if isinstance(t, Tensor) else None

    def origin(self, t: Any) -> str:
        """How to name an untraced tensor in a reason: the parameter or
        buffer it comes from, the model input, or a constant."""
        name = self.origins.get(t) if isinstance(t, Tensor) else None
        if name is not None:
            return name
        return f'a constant tensor of shape {tuple(t.shape)}'

    def event(self, op: Optional[Op], reason: str,
              module: Optional[str] = None) -> Event:
        """An event at ``op`` in ``module`` (default: the running one)."""
        return Event(module or self.module,
                     op_name(op.func) if op is not None else None, reason)

    def poison(self, segs: Segs, op: Optional[Op], reason: str,
               module: Optional[str] = None) -> None:
        """Mark ``segs`` not prunable, saying why."""
        self.graph.poison(segs, self.event(op, reason, module))

    def poison_inputs(self, op: Op, reason: str,
                      module: Optional[str] = None) -> None:
        """Mark the channels of every traced input of ``op`` not prunable.
        """
        segs = tuple(s for _, info in op.tracked for s in info.segs)
        self.poison(segs, op, reason, module)

    def fresh(self, size: int, op: Optional[Op], reason: str,
              module: Optional[str] = None) -> Segs:
        """New channels that are not prunable, e.g. a constant's."""
        segs = self.graph.new_block(size)
        self.poison(segs, op, reason, module)
        return segs

    def consume(self, op: Op, x: Any, dim: int, size: int,
                module: str) -> Tuple[Segs, int]:
        """The channels ``module`` reads from ``x`` along ``dim``.

        Args:
            op (Op): The module's functional call.
            x: Its input.
            dim (int): The dim it reads channels from (may be negative).
            size (int): The number of indices it reads there.
            module (str): Its name.

        Returns:
            tuple: ``(segs, expand)``. An input without traced channels
            there gets fresh, non-prunable ones.
        """
        info = self.get(x)
        if info is not None and isinstance(x, Tensor):
            dim = dim % x.dim()
            if (not info.split and info.dim == dim
                    and info.channels * info.expand == size):
                return info.segs, info.expand
            self.poison(info.segs, op, f'{module} reads dim {dim} while '
                        f'the channels are in dim(s) {info.dims}', module)
            return self.fresh(size, op, f'{module} reads channels from an '
                              f'unsupported layout', module), 1
        if isinstance(x, Tensor) and self.origins.get(x) == MODEL_INPUT:
            return self.fresh(size, op, 'model input', module), 1
        return self.fresh(size, op, f'the input channels of {module} do not '
                          'come from a traced module output (model input, '
                          'a constant, or an op the tracer cannot follow)',
                          module), 1

    # -- the mode -----------------------------------------------------------
    def __torch_function__(self, func: Callable, types: Any,
                           args: tuple = (), kwargs: Optional[dict] = None):
        kwargs = kwargs or {}
        try:
            out = func(*args, **kwargs)
        except Exception:
            self.failed_op = op_name(func)
            raise
        tracked = []
        consts = False
        for a in (*args, *kwargs.values()):
            if isinstance(a, Tensor):
                info = self.infos.get(a)
                if info is not None:
                    tracked.append((a, info))
                else:
                    consts = True
            elif isinstance(a, (list, tuple)):
                for b in a:
                    if isinstance(b, Tensor):
                        info = self.infos.get(b)
                        if info is not None:
                            tracked.append((b, info))
                        else:
                            consts = True
        key = None
        if not tracked:
            if not consts:
                return out
            key = self._key(func)
            if key not in self.always:
                self._carry_origin(args, kwargs, out)
                return out
        elif not _has_tensor(out):
            key = self._key(func)
            if key not in self.no_output:
                return out
        op = Op(key or self._key(func), func, args, kwargs, out, tracked)
        try:
            self.rules.get(op.key, self.fallback)(self, op)
        except Exception as exc:  # a rule bug must not stop the analysis
            self.poison_inputs(op, f'the channel rule of {op.key!r} failed: '
                               f'{type(exc).__name__}: {exc}')
        return out

    def _key(self, func: Callable) -> str:
        key = self._keys.get(func)
        if key is None:
            key = self._keys[func] = op_key(func)
        return key

    def _carry_origin(self, args: tuple, kwargs: dict, out: Any) -> None:
        """Let a tensor computed from one parameter keep its name
        (``gamma.view(1, -1, 1, 1)`` is still ``gamma``)."""
        if not isinstance(out, Tensor) or out.dim() == 0:
            return
        for a in (*args, *kwargs.values()):
            if isinstance(a, Tensor):
                name = self.origins.get(a)
                if name is not None:
                    self.origins[out] = name
                    return


def trace(model: nn.Module, forward: Callable[[], Any], rules: RuleSet,
          inputs: Tuple[Tensor, ...] = ()) -> ChannelGraph:
    """Run ``forward()`` under a :class:`ChannelTracer`.

    Args:
        model (nn.Module): The model ``forward`` runs.
        forward (callable): Runs the forward, returns its output.
        rules (RuleSet): The op rules.
        inputs (tuple[Tensor]): The model inputs; their channels are not
            prunable. Those of 2, 4 or 5 dims (features, images, videos)
            are traced with their channels in dim 1; for others (e.g. 3 dims:
            ``(B, C, L)`` or ``(B, N, C)`` tokens) the modules reading them
            get non-prunable input channels.

    Returns:
        ChannelGraph: The filled graph; the outputs' channels are poisoned.

    Raises:
        TraceError: ``forward()`` raised.
    """
    tracer = ChannelTracer(model, rules)
    try:
        for x in inputs:
            if x.dim() in (2, 4, 5):
                tracer.set(x, Info.at(1, tracer.fresh(
                    x.shape[1], None, 'model input', module=None)))
            else:  # (B, C, L) or (B, N, C): the channel dim is unknown
                tracer.origins[x] = MODEL_INPUT
        try:
            with tracer:
                out = forward()
        except Exception as exc:
            # the stack is left as it was when the forward failed
            raise TraceError(tracer.module, tracer.failed_op) from exc
        for t in iter_tensors(out):
            info = tracer.get(t)
            if info is not None:
                tracer.graph.poison(info.segs, Event(
                    None, None, 'model output'))
    finally:
        tracer.remove_hooks()
    return tracer.graph


def no_grad_eval(model: nn.Module, fn: Callable[[], Any]) -> Any:
    """Run ``fn()`` without gradients, ``model`` in eval mode, restoring
    every submodule's training flag afterwards."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            return fn()
    finally:
        for m, flag in flags:
            m.training = flag
