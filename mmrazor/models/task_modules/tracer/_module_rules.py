# Copyright (c) OpenMMLab. All rights reserved.
"""Rules of module ops: the functional calls a module makes with its own
parameters.

``conv*`` and ``linear`` read their input channels and write a block of
output channels; ``batch_norm``, ``layer_norm``, ``group_norm``,
``instance_norm``, ``prelu`` and depthwise convs pass channels through and
appear on both sides of their unit; group convs and multi-head attention
are not prunable.
"""
from typing import Any, Optional

from torch import Tensor

from ._ops import Info, Op, out_tensors, tensor_args, why
from ._pointwise_rules import same_as_first, unsupported
from ._tracer import ChannelTracer


def _owner(tr: ChannelTracer, *tensors: Any) -> Optional[str]:
    for t in tensors:
        name = tr.owner(t)
        if name is not None:
            return name
    return None


def _passthrough(tr: ChannelTracer, op: Op, x: Tensor, dim: int, size: int,
                 owner: str) -> Info:
    segs, k = tr.consume(op, x, dim, size, owner)
    tr.graph.record(owner, True, segs, k)
    tr.graph.record(owner, False, segs, k)
    info = Info.at(dim % x.dim(), segs, k)
    for o in out_tensors(op.out):
        if o.shape == x.shape:
            tr.set(o, info)
    return info


def _opaque(tr: ChannelTracer, op: Op, reason: str, dim: int) -> None:
    tr.poison_inputs(op, reason)
    outs = out_tensors(op.out)
    if outs:
        o = outs[0]
        tr.set(o, Info.at(dim % o.dim(),
                          tr.fresh(o.shape[dim], op, reason)))


def conv(tr: ChannelTracer, op: Op) -> None:
    """conv1d/2d/3d and conv_transpose*: depthwise convs pass channels
    through; group convs are not prunable."""
    x, w = op.args[0], op.arg(1, 'weight')
    owner = tr.owner(w)
    outs = out_tensors(op.out)
    if not outs or not isinstance(x, Tensor):
        return
    dim = 1 if x.dim() == w.dim() else 0
    if owner is None:
        _opaque(tr, op, f'a conv with {tr.origin(w)} as weight, not a '
                'module parameter', dim)
        return
    groups = op.arg(6, 'groups', 1)
    if op.key.startswith('conv_transpose'):
        in_ch, out_ch = w.shape[0], w.shape[1] * groups
    else:
        out_ch, in_ch = w.shape[0], w.shape[1] * groups
    segs, k = tr.consume(op, x, dim, in_ch, owner)
    graph = tr.graph
    if groups > 1 and groups == in_ch == out_ch and k == 1:
        graph.record(owner, True, segs)
        graph.record(owner, False, segs)
        tr.set(outs[0], Info.at(dim, segs))
        return
    out = graph.module_block(owner, out_ch)
    graph.record(owner, False, segs, k)
    graph.record(owner, True, out)
    if groups > 1:
        tr.poison(segs + out, op, f'group conv ({groups} groups): pruning '
                  'would break its per-group structure', owner)
    tr.set(outs[0], Info.at(dim, out))


def linear(tr: ChannelTracer, op: Op) -> None:
    """F.linear of a module: reads the last dim, writes new channels."""
    x, w = op.args[0], op.arg(1, 'weight')
    owner = tr.owner(w)
    outs = out_tensors(op.out)
    if not outs or not isinstance(x, Tensor):
        return
    if owner is None:
        _opaque(tr, op, f'a linear with {tr.origin(w)} as weight, not a '
                'module parameter', -1)
        return
    info = tr.get(x)
    last = x.dim() - 1
    if info is not None and not info.split and info.dim != last:
        tr.graph.note(tr.event(
            op, f'{owner} is applied along dim {last}, which holds no '
            f'traced channels (they are in dim {info.dim}); its features '
            'are not analysed', owner))
        tr.set(outs[0], info)
        return
    out_f, in_f = w.shape
    segs, k = tr.consume(op, x, -1, in_f, owner)
    out = tr.graph.module_block(owner, out_f)
    tr.graph.record(owner, False, segs, k)
    tr.graph.record(owner, True, out)
    tr.set(outs[0], Info.at(outs[0].dim() - 1, out))


def batch_norm(tr: ChannelTracer, op: Op) -> None:
    """batch_norm / instance_norm: per-channel parameters along dim 1."""
    x = op.args[0]
    params = [p for p in (op.arg(3, 'weight'), op.arg(4, 'bias'),
                          op.arg(1, 'running_mean'), op.arg(2, 'running_var'))
              if isinstance(p, Tensor)]
    owner = _owner(tr, *params)
    if not params:
        same_as_first(tr, op)
    elif owner is None:
        tr.poison_inputs(op, f'normalised with {tr.origin(params[0])}, '
                         'not a module parameter')
        same_as_first(tr, op)
    else:
        _passthrough(tr, op, x, 1, params[0].numel(), owner)


def layer_norm(tr: ChannelTracer, op: Op) -> None:
    """layer_norm / rms_norm over the last dims."""
    x, normalized = op.args[0], op.arg(1, 'normalized_shape')
    nd = 1 if isinstance(normalized, int) else len(normalized)
    params = [p for p in (op.arg(2, 'weight'), op.arg(3, 'bias'))
              if isinstance(p, Tensor)]
    info = tr.get(x)
    normed = set(range(x.dim() - nd, x.dim()))
    if not params or (info is not None and not set(info.dims) & normed):
        same_as_first(tr, op)
        return
    owner = _owner(tr, *params)
    if owner is None or nd != 1 or (info is not None and info.split):
        reason = 'normalised with non-module parameters'
        if info is not None:
            reason = why(info, 'normalised with per-element parameters '
                         'over several dims')
        tr.poison_inputs(op, reason)
        same_as_first(tr, op)
        return
    _passthrough(tr, op, x, -1, params[0].numel(), owner)


def group_norm(tr: ChannelTracer, op: Op) -> None:
    """group_norm: channels must stay a multiple of the group count."""
    x, groups = op.args[0], op.arg(1, 'num_groups')
    params = [p for p in (op.arg(2, 'weight'), op.arg(3, 'bias'))
              if isinstance(p, Tensor)]
    owner = _owner(tr, *params)
    if owner is not None:
        info = _passthrough(tr, op, x, 1, params[0].numel(), owner)
    else:
        same_as_first(tr, op)
        info = tr.get(x)
    channels = x.shape[1]
    if info is not None and 1 < groups < channels:
        tr.poison(info.segs, op, f'GroupNorm with {groups} groups: the '
                  f'channel count must stay a multiple of {groups}', owner)


def prelu(tr: ChannelTracer, op: Op) -> None:
    """prelu: per-channel slopes along dim 1 (one slope: elementwise)."""
    x, w = op.args[0], op.arg(1, 'weight')
    owner = tr.owner(w)
    if w.numel() == 1:
        same_as_first(tr, op)
    elif owner is None:
        tr.poison_inputs(op, f'slopes from {tr.origin(w)}')
        same_as_first(tr, op)
    else:
        _passthrough(tr, op, x, 1, w.numel(), owner)


def embedding(tr: ChannelTracer, op: Op) -> None:
    """F.embedding of a module: writes new channels in the last dim."""
    w = op.arg(1, 'weight')
    owner = tr.owner(w)
    outs = out_tensors(op.out)
    if owner is None or not outs:
        unsupported(tr, op)
        return
    out = tr.graph.module_block(owner, w.shape[1])
    tr.graph.record(owner, True, out)
    tr.set(outs[0], Info.at(outs[0].dim() - 1, out))


def attention(tr: ChannelTracer, op: Op) -> None:
    """nn.MultiheadAttention's functional call: not prunable."""
    owner = _owner(tr, *tensor_args(op))
    reason = (f'{owner or "a multi-head attention"} splits these channels '
              'into heads')
    tr.poison_inputs(op, reason, owner)
    outs = out_tensors(op.out)
    if outs:
        o = outs[0]
        tr.set(o, Info.at(o.dim() - 1, tr.fresh(o.shape[-1], op, reason,
                                                owner)))
