# Copyright (c) OpenMMLab. All rights reserved.
"""Rules of elementwise ops, pooling-like ops, matrix products, and of ops
without a rule (:func:`unsupported`).

A rule reads the traced inputs of an :class:`~._ops.Op` and sets the
:class:`~._ops.Info` of its outputs, links channels that must be pruned
together, or poisons channels it cannot follow, saying why.
"""
from torch import Tensor

from ._ops import (
    Info,
    Op,
    fail,
    first,
    out_tensors,
    same_layout,
    tensor_args,
    why,
)
from ._tracer import ChannelTracer


def elementwise(tr: ChannelTracer, op: Op) -> None:
    """add, mul, relu, where...: broadcast operands; the channels of all
    traced operands along the output's channel dim are linked."""
    outs = out_tensors(op.out)
    if not outs:
        return
    o = outs[0]
    od = o.dim()
    cands = []
    for t, info in op.tracked:
        shift = od - t.dim()
        dims = tuple(d + shift for d in info.dims)
        if shift < 0:
            continue
        full = all(o.shape[e] == t.shape[d] for d, e in zip(info.dims, dims))
        cands.append((info, info._replace(dims=dims), full))
    main = next((c[1] for c in cands if c[2]), None)
    if main is None:
        tr.poison_inputs(op, 'traced channels are broadcast or dropped by '
                         'the op')
        return
    for info, moved, full in cands:
        if not full:
            fail(tr, op, info, 'a channel dim is broadcast over '
                 f'{o.shape[moved.dims[0]]} channels')
        elif same_layout(moved, main):
            tr.graph.link(main.segs, info.segs)
        else:
            tr.poison(main.segs + info.segs, op, 'operands carry their '
                      'channels in different dims')
    for t in tensor_args(op):
        if tr.get(t) is not None or t.dim() == 0:
            continue
        shift = od - t.dim()
        if any(d - shift >= 0 and t.shape[d - shift] > 1 for d in main.dims):
            fail(tr, op, main, f'combined channel by channel with '
                 f'{tr.origin(t)}')
            break
    for out in outs:
        if out.dim() == od and all(out.shape[d] == o.shape[d]
                                   for d in main.dims):
            tr.set(out, main)


def same_as_first(tr: ChannelTracer, op: Op) -> None:
    """to, clone, contiguous, zeros_like...: the output has the channels
    of the first argument."""
    t, info = first(op)
    if info is None:
        return
    for o in out_tensors(op.out):
        if o.shape == t.shape:
            tr.set(o, info)


def keep_channels(tr: ChannelTracer, op: Op) -> None:
    """Pooling, interpolation...: spatial dims change, channels stay."""
    t, info = first(op)
    if info is None:
        unsupported(tr, op)
        return
    for o in out_tensors(op.out):
        if o.dim() == t.dim() and all(o.shape[d] == t.shape[d]
                                      for d in info.dims) and (
                                          not info.split or
                                          o.shape == t.shape):
            tr.set(o, info)
        else:
            fail(tr, op, info, f'{op.key} changes the channel dim')
            return


def pad(tr: ChannelTracer, op: Op) -> None:
    """F.pad: constant padding of the channel dim adds constant channels."""
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None or not outs:
        return
    pads = list(op.arg(1, 'pad'))
    k = t.dim() - 1 - info.dim
    if info.split or 2 * k + 1 >= len(pads) or not (pads[2 * k]
                                                    or pads[2 * k + 1]):
        keep_channels(tr, op)
        return
    lo, hi = pads[2 * k], pads[2 * k + 1]
    if lo < 0 or hi < 0 or info.expand != 1 or op.arg(
            2, 'mode', 'constant') != 'constant':
        fail(tr, op, info, 'the channel dim is padded or cropped')
        return
    reason = 'padding added along the channel dim'
    tr.set(outs[0], Info.at(info.dim, tr.fresh(lo, op, reason) + info.segs +
                            tr.fresh(hi, op, reason)))


def matmul(tr: ChannelTracer, op: Op) -> None:
    """matmul / mm / bmm / ``@``: row and batch channels pass on; channels
    contracted with a traced operand's channels are linked."""
    a, b = op.args[0], op.args[1]
    if op.key == 'rmatmul':
        a, b = b, a
    ia, ib = tr.get(a), tr.get(b)
    outs = out_tensors(op.out)
    if (not outs or not isinstance(a, Tensor) or not isinstance(b, Tensor)
            or a.dim() < 2 or b.dim() < 2 or (ia and ia.split)
            or (ib and ib.split)):
        tr.poison_inputs(op, why(op.tracked[0][1], 'a matrix product mixes '
                                 'them'))
        return
    no = outs[0].dim()
    placed, contracted = [], []
    if ia is not None:
        d, n = ia.dim, a.dim()
        if d == n - 1:
            contracted.append((ia, b))
        else:
            placed.append((no - 2 if d == n - 2 else d + no - n, ia))
    if ib is not None:
        d, n = ib.dim, b.dim()
        if d == n - 2:
            contracted.append((ib, a))
        else:
            placed.append((no - 1 if d == n - 1 else d + no - n, ib))
    if len(contracted) == 2:
        (x, _), (y, _) = contracted
        if x.channels == y.channels and x.expand == y.expand:
            tr.graph.link(x.segs, y.segs)
        else:
            tr.poison(x.segs + y.segs, op, 'contracted with each other '
                      'but laid out differently')
    elif contracted:
        info, other = contracted[0]
        fail(tr, op, info, f'contracted by a matrix product with '
             f'{tr.origin(other)}')
    if len(placed) == 2 and placed[0][0] == placed[1][0] and (
            placed[0][1].channels == placed[1][1].channels):
        tr.graph.link(placed[0][1].segs, placed[1][1].segs)
        placed = placed[:1]
    if len(placed) == 1:
        dim, info = placed[0]
        tr.set(outs[0], Info.at(dim, info.segs, info.expand))
    elif placed:
        tr.poison(placed[0][1].segs + placed[1][1].segs, op, 'a matrix '
                  'product puts channels of both operands in the output')


def leaves_torch(tr: ChannelTracer, op: Op) -> None:
    """numpy / tolist: channels leave torch and cannot be followed."""
    tr.poison_inputs(op, f'the tensor is converted by {op.key}(); its '
                     'channels cannot be followed')


def unsupported(tr: ChannelTracer, op: Op) -> None:
    """Ops without a rule: their inputs' channels are not prunable; an
    output shaped like the first traced input keeps its (poisoned)
    channels."""
    if not op.tracked:
        return
    t, info = op.tracked[0]
    tr.poison_inputs(op, why(info, f'{op.key} is not supported by the '
                             'channel tracer'))
    for o in out_tensors(op.out):
        if o.shape == t.shape:
            tr.set(o, info)


def ignore(tr: ChannelTracer, op: Op) -> None:
    """Ops that read no channels (size, dim, new_zeros...)."""
