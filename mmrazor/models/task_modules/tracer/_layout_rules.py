# Copyright (c) OpenMMLab. All rights reserved.
"""Rules of ops that move dims: reshape (flatten, heads, channel shuffle),
permute / transpose, expand and repeat."""
from math import prod
from typing import List, Optional, Sequence, Tuple

from ._ops import (
    Info,
    Op,
    Shuffle,
    Unsupported,
    fail,
    first,
    norm_dims,
    out_tensors,
)
from ._tracer import ChannelTracer


def in_place_reshape(tr: ChannelTracer, op: Op, info: Info) -> bool:
    """Poison a shape op that changed its own input (``unsqueeze_``)."""
    if op.out is op.args[0] and op.func.__name__.endswith('_'):
        fail(tr, op, info, 'an in-place shape op changes the tensor')
        return True
    return False


# -- reshape -------------------------------------------------------------
def _groups(a: Sequence[int],
            b: Sequence[int]) -> List[Tuple[List[int], List[int]]]:
    """Pair the non-1 dims of two shapes of one tensor into minimal groups
    of equal size."""
    ia = [i for i, s in enumerate(a) if s != 1]
    ib = [i for i, s in enumerate(b) if s != 1]
    if 0 in a or 0 in b:
        raise Unsupported('the tensor is empty')
    groups = []
    i = j = 0
    while i < len(ia) and j < len(ib):
        ga, gb = [ia[i]], [ib[j]]
        pa, pb = a[ia[i]], b[ib[j]]
        i, j = i + 1, j + 1
        while pa != pb:
            if pa < pb and i < len(ia):
                ga.append(ia[i])
                pa *= a[ia[i]]
                i += 1
            elif pb < pa and j < len(ib):
                gb.append(ib[j])
                pb *= b[ib[j]]
                j += 1
            else:
                raise Unsupported('the shapes do not match')
        groups.append((ga, gb))
    if i < len(ia) or j < len(ib):
        raise Unsupported('the shapes do not match')
    return groups


def map_reshape(a: Sequence[int], b: Sequence[int],
                info: Info) -> Optional[Info]:
    """The info of a reshape of a tensor of shape ``a`` to shape ``b``.

    Raises:
        Unsupported: The channels end up in a layout the tracer cannot
            follow; :class:`Shuffle` for a channel shuffle.
    """
    if all(a[d] == 1 for d in info.dims):
        return None
    groups = _groups(a, b)
    ga, gb = next(g for g in groups if info.dims[0] in g[0])
    if not info.split:
        d, channels = info.dim, info.channels
        if ga[0] != d:
            raise Unsupported('the channel dim is merged below another dim '
                              '(channels would not stay contiguous)')
        if b[gb[0]] % channels == 0:
            return Info.at(gb[0], info.segs, b[gb[0]] // channels)
        size = 1
        for m, o in enumerate(gb):
            size *= b[o]
            if size == channels:
                dims = tuple(gb[:m + 1])
                return Info(dims, tuple(range(len(dims))), info.segs)
            if size > channels:
                break
        raise Unsupported('the channel dim is reshaped across channel '
                          'boundaries')
    dims = sorted(info.dims)
    if all(d in ga for d in dims):
        if ga[:len(dims)] != dims or len(gb) != 1:
            raise Unsupported('the channel dims are reshaped into another '
                              'layout')
        ranks = [info.ranks[info.dims.index(d)] for d in dims]
        if ranks != sorted(ranks):
            raise Shuffle(gb[0])
        return Info.at(gb[0], info.segs, prod(a[i] for i in ga[len(dims):]))
    new = []
    for d in info.dims:
        ga, gb = next(g for g in groups if d in g[0])
        if ga != [d] or len(gb) != 1:
            raise Unsupported('the channel dims are reshaped into another '
                              'layout')
        new.append(gb[0])
    return info._replace(dims=tuple(new))


def reshape(tr: ChannelTracer, op: Op) -> None:
    """view, reshape, flatten, unflatten, squeeze, unsqueeze..."""
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None or not outs or in_place_reshape(tr, op, info):
        return
    o = outs[0]
    try:
        tr.set(o, map_reshape(tuple(t.shape), tuple(o.shape), info))
    except Shuffle as exc:
        reason = ('channel shuffle: channels split into groups, transposed '
                  'and merged back, so no channel keeps its position')
        tr.poison(info.segs, op, reason)
        tr.set(o, Info.at(exc.dim, tr.fresh(info.channels, op, reason)))
    except Unsupported as exc:
        fail(tr, op, info, f'reshape {tuple(t.shape)} -> {tuple(o.shape)}: '
             f'{exc}')


# -- permute ---------------------------------------------------------------
def _perm(op: Op, n: int) -> List[int]:
    key, args = op.key, op.args
    perm = list(range(n))
    if key == 'permute':
        dims = args[1:] if len(args) > 2 or (
            len(args) == 2 and isinstance(args[1], int)) else op.arg(
                1, 'dims')
        return norm_dims(dims, n)
    if key in ('transpose', 'swapaxes', 'swapdims'):
        d0 = op.kwargs.get('dim0', op.kwargs.get('axis0'))
        d1 = op.kwargs.get('dim1', op.kwargs.get('axis1'))
        d0 = args[1] if d0 is None else d0
        d1 = args[2] if d1 is None else d1
        d0, d1 = d0 % n, d1 % n
        perm[d0], perm[d1] = perm[d1], perm[d0]
        return perm
    if key in ('t', 'T', 'numpy_T'):
        return perm[::-1]
    if key in ('mT', 'mH', 'adjoint', 'H'):
        perm[-1], perm[-2] = perm[-2], perm[-1]
        return perm
    # movedim / moveaxis
    src = norm_dims(op.arg(1, 'source'), n)
    dst = norm_dims(op.arg(2, 'destination'), n)
    order: List[Optional[int]] = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    return [next(rest) if o is None else o for o in order]


def permute(tr: ChannelTracer, op: Op) -> None:
    """permute, transpose, movedim, .T, .mT..."""
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None or not outs or in_place_reshape(tr, op, info):
        return
    perm = _perm(op, t.dim())
    where = {p: i for i, p in enumerate(perm)}
    tr.set(outs[0], info._replace(dims=tuple(where[d] for d in info.dims)))


def expand(tr: ChannelTracer, op: Op) -> None:
    """expand / expand_as / broadcast_to."""
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None or not outs:
        return
    o = outs[0]
    shift = o.dim() - t.dim()
    dims = tuple(d + shift for d in info.dims)
    if all(o.shape[e] == t.shape[d] for d, e in zip(info.dims, dims)):
        tr.set(o, info._replace(dims=dims))
    else:
        fail(tr, op, info, 'a channel dim of size 1 is expanded')


def repeat(tr: ChannelTracer, op: Op) -> None:
    """repeat / tile: a repeated channel dim repeats its segments."""
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None or not outs:
        return
    args = op.args
    reps = args[1:] if len(args) > 2 or (
        len(args) == 2 and isinstance(args[1], int)) else op.arg(
            1, 'dims' if op.key == 'tile' else 'repeats')
    reps = tuple(int(r) for r in reps)
    n = t.dim()
    if len(reps) < n:
        reps = (1, ) * (n - len(reps)) + reps
    dims = tuple(d + len(reps) - n for d in info.dims)
    factors = [reps[d] for d in dims]
    if all(f == 1 for f in factors):
        tr.set(outs[0], info._replace(dims=dims))
    elif not info.split:
        tr.set(outs[0], Info.at(dims[0], info.segs * factors[0],
                                info.expand))
    else:
        fail(tr, op, info, 'repeated along one of them')


def repeat_interleave(tr: ChannelTracer, op: Op) -> None:
    """repeat_interleave: ``r`` copies of each channel stay together."""
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None or not outs:
        return
    reps, dim = op.arg(1, 'repeats'), op.arg(2, 'dim')
    if dim is not None and dim % t.dim() not in info.dims:
        tr.set(outs[0], info)
    elif dim is not None and isinstance(reps, int) and not info.split:
        tr.set(outs[0], Info.at(info.dim, info.segs, info.expand * reps))
    else:
        fail(tr, op, info, 'channels are interleaved by repeat_interleave')
