# Copyright (c) OpenMMLab. All rights reserved.
"""Rules of ops that join, cut, index or reduce along dims: cat / stack,
split / chunk, unbind, ``x[index]``, reductions and ops along one dim."""
from typing import Any, Dict, List, Sequence, Tuple

from torch import Tensor

from ._graph import sub_segs
from ._ops import (
    FIXED_CUT,
    Info,
    Op,
    Unsupported,
    fail,
    first,
    norm_dims,
    out_tensors,
    same_layout,
    why,
)
from ._pointwise_rules import elementwise, unsupported
from ._tracer import ChannelTracer


def cat(tr: ChannelTracer, op: Op) -> None:
    """cat / concat / stack: join along the channel dim or link along
    another one."""
    tensors = op.arg(0, 'tensors')
    outs = out_tensors(op.out)
    if not outs or not isinstance(tensors, (list, tuple)):
        return
    o = outs[0]
    dim = op.arg(1, 'dim', 0) % o.dim()
    stack = op.key == 'stack'
    parts = [(t, tr.get(t)) for t in tensors]
    main = next(i for _, i in parts if i is not None)
    if stack:
        main = main._replace(dims=tuple(d + (d >= dim) for d in main.dims))
    if not stack and not main.split and main.dim == dim:
        segs: tuple = ()
        for t, info in parts:
            if info is None:
                n = t.shape[dim]
                if n % main.expand:
                    break
                segs += tr.fresh(n // main.expand, op,
                                 f'{tr.origin(t)} is concatenated along '
                                 'the channel dim')
            elif info.split or info.dim != dim or info.expand != main.expand:
                break
            else:
                segs += info.segs
        else:
            tr.set(o, Info.at(dim, segs, main.expand))
            return
        tr.poison_inputs(op, 'tensors concatenated along the channel dim '
                         'carry their channels differently')
        return
    for t, info in parts:
        if info is None:
            if any(o.shape[d] > 1 for d in main.dims):
                fail(tr, op, main, f'joined with {tr.origin(t)}, which has '
                     'a size along the channel dim')
            continue
        if stack:
            info = info._replace(
                dims=tuple(d + (d >= dim) for d in info.dims))
        if same_layout(info, main):
            tr.graph.link(main.segs, info.segs)
        else:
            tr.poison(main.segs + info.segs, op, 'joined tensors carry '
                      'their channels in different dims')
    tr.set(o, main)


def split(tr: ChannelTracer, op: Op) -> None:
    """split / chunk / tensor_split along the channel dim.

    ``chunk(n)`` cuts equal pieces whatever the channel count, so linking
    the pieces (channel ``i`` of every piece together) keeps it right after
    pruning. Split sizes given by the code (``split(x, [16, 48])``,
    ``split(x, 8)``) stay fixed, so those channels are not prunable.
    """
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None:
        return
    n = t.dim()
    dim = op.arg(2, 'dim', 0) % n
    if dim not in info.dims:
        for o in outs:
            if o.dim() == n:
                tr.set(o, info)
        return
    if info.split:
        fail(tr, op, info, 'split along one of them')
        return
    k = info.expand
    sizes = [o.shape[dim] for o in outs]
    if len(outs) == 1:
        tr.set(outs[0], info)
        return
    if any(size % k for size in sizes):
        fail(tr, op, info, 'split inside a flattened channel')
        return
    equal = op.key in ('chunk', 'unsafe_chunk') or (
        op.key == 'tensor_split' and isinstance(op.arg(1, 'sections'), int))
    if not (equal and len(set(sizes)) == 1):
        fail(tr, op, info, f'{op.key} cuts the channel dim into pieces of '
             f'fixed sizes {sizes}; {FIXED_CUT}')
    pos, pieces = 0, []
    for o, size in zip(outs, sizes):
        pieces.append(sub_segs(info.segs, pos // k, (pos + size) // k))
        tr.set(o, Info.at(dim, pieces[-1], k))
        pos += size
    if equal and len(set(sizes)) == 1:
        for piece in pieces[1:]:
            tr.graph.link(pieces[0], piece)


def unbind(tr: ChannelTracer, op: Op) -> None:
    """unbind (and iterating over a tensor)."""
    t, info = first(op)
    if info is None:
        return
    dim = op.arg(1, 'dim', 0) % t.dim()
    if dim in info.dims:
        fail(tr, op, info, 'the channel dim is unbound into tensors')
        return
    new = info._replace(dims=tuple(d - (d > dim) for d in info.dims))
    for o in out_tensors(op.out):
        tr.set(o, new)


# -- indexing ----------------------------------------------------------------
def index_info(shape: Sequence[int], index: Any,
               info: Info) -> Tuple[Info, bool]:
    """The info of ``x[index]`` for basic indexing (ints, slices, None,
    Ellipsis), and whether it slices part of the channels.

    Raises:
        Unsupported: Advanced indexing, an int picking a channel, or a
            strided channel slice.
    """
    items = index if isinstance(index, tuple) else (index, )
    if any(isinstance(i, (Tensor, list, bool)) for i in items):
        raise Unsupported('advanced (tensor, list or bool) indexing')
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    expanded: List[Any] = []
    for i in items:
        if i is Ellipsis:
            expanded += [slice(None)] * (len(shape) - used)
        else:
            expanded.append(i)
    consumed = sum(1 for i in expanded if i is not None)
    expanded += [slice(None)] * (len(shape) - consumed)
    where: Dict[int, int] = {}
    sub = None
    src = dst = 0
    for item in expanded:
        if item is None:
            dst += 1
            continue
        if src >= len(shape):
            break
        if isinstance(item, slice):
            if src in info.dims:
                start, stop, step = item.indices(shape[src])
                if (start, stop, step) != (0, shape[src], 1):
                    k = info.expand
                    if info.split or step != 1 or start % k or stop % k:
                        raise Unsupported('channels are sliced with a step '
                                          'or inside a flattened channel')
                    sub = (start // k, max(stop, start) // k)
            where[src] = dst
            src, dst = src + 1, dst + 1
            continue
        try:
            int(item)
        except TypeError:
            raise Unsupported(
                f'an index of type {type(item).__name__}') from None
        if src in info.dims:
            raise Unsupported('a single channel is picked by an int index')
        src += 1
    segs = sub_segs(info.segs, *sub) if sub else info.segs
    return info._replace(dims=tuple(where[d] for d in info.dims),
                         segs=segs), sub is not None


def getitem(tr: ChannelTracer, op: Op) -> None:
    """``x[index]``."""
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None or not outs:
        return
    try:
        new, partial = index_info(tuple(t.shape), op.args[1], info)
    except Unsupported as exc:
        fail(tr, op, info, str(exc))
        return
    if partial:
        fail(tr, op, info, f'the channel dim is sliced with fixed bounds; '
             f'{FIXED_CUT}')
    tr.set(outs[0], new)


def setitem(tr: ChannelTracer, op: Op) -> None:
    """``x[index] = value``: the value's channels join the region's."""
    t, index, value = op.args[0], op.args[1], op.args[2]
    tinfo, vinfo = tr.get(t), tr.get(value)
    if tinfo is None:
        if vinfo is not None:
            fail(tr, op, vinfo, 'written into a tensor without traced '
                 'channels')
        return
    try:
        region, partial = index_info(tuple(t.shape), index, tinfo)
    except Unsupported as exc:
        tr.poison_inputs(op, why(tinfo, f'written through an index: {exc}'))
        return
    if partial:
        tr.poison_inputs(op, f'written into channels sliced with fixed '
                         f'bounds; {FIXED_CUT}')
    if not isinstance(value, Tensor):
        return
    rshape = t[index].shape
    shift = len(rshape) - value.dim()
    if vinfo is not None:
        moved = vinfo._replace(dims=tuple(d + shift for d in vinfo.dims))
        if same_layout(moved, region):
            tr.graph.link(region.segs, vinfo.segs)
        else:
            tr.poison_inputs(op, 'the written value carries its channels '
                             'in other dims')
        return
    for d in region.dims:
        if d - shift >= 0 and value.shape[d - shift] > 1:
            fail(tr, op, region, f'{tr.origin(value)} is written into the '
                 'channels')
            return


# -- reductions and ops along one dim ----------------------------------------
_REDUCE_DIM_POS = {'norm': 2, 'kthvalue': 2, 'quantile': 2,
                   'nanquantile': 2}


def reduce(tr: ChannelTracer, op: Op) -> None:
    """mean, sum, amax, max(dim)...: a reduced channel dim is consumed
    (pruning only changes the statistic); other dims pass channels on."""
    if op.key in ('max', 'min') and isinstance(op.arg(1, 'other'), Tensor):
        elementwise(tr, op)
        return
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None or not outs:
        return
    pos = _REDUCE_DIM_POS.get(op.key, 1)
    dim = op.kwargs.get('dim', op.kwargs.get('axis'))
    if dim is None and len(op.args) > pos:
        dim = op.args[pos]
    if not isinstance(dim, (int, tuple, list)) or isinstance(dim, bool):
        return
    n = t.dim()
    dims = set(norm_dims(dim, n))
    if not dims:
        return
    if dims & set(info.dims):
        if info.split:
            fail(tr, op, info, 'reduced over some of them')
        return
    keep = outs[0].dim() == n
    new = tuple(d if keep else d - sum(r < d for r in dims)
                for d in info.dims)
    for o in outs:
        if o.dim() == outs[0].dim():
            tr.set(o, info._replace(dims=new))


# name: (position of the dim argument, its keyword, default, kind)
DIM_OPS: Dict[str, Tuple[int, str, Any, str]] = {
    'softmax': (1, 'dim', None, 'keep'),
    'log_softmax': (1, 'dim', None, 'keep'),
    'softmin': (1, 'dim', None, 'keep'),
    'cumsum': (1, 'dim', None, 'keep'),
    'cumprod': (1, 'dim', None, 'keep'),
    'logcumsumexp': (1, 'dim', None, 'keep'),
    'cummax': (1, 'dim', None, 'keep'),
    'cummin': (1, 'dim', None, 'keep'),
    'normalize': (2, 'dim', 1, 'keep'),
    'index_select': (1, 'dim', None, 'select'),
    'gather': (1, 'dim', None, 'select'),
    'scatter': (1, 'dim', None, 'select'),
    'scatter_add': (1, 'dim', None, 'select'),
    'scatter_reduce': (1, 'dim', None, 'select'),
    'index_add': (1, 'dim', None, 'select'),
    'index_copy': (1, 'dim', None, 'select'),
    'index_fill': (1, 'dim', None, 'select'),
    'select': (1, 'dim', None, 'select'),
    'narrow': (1, 'dim', None, 'select'),
    'take_along_dim': (2, 'dim', None, 'select'),
    'flip': (1, 'dims', None, 'select'),
    'roll': (2, 'dims', None, 'select'),
    'sort': (1, 'dim', -1, 'select'),
    'argsort': (1, 'dim', -1, 'select'),
    'topk': (2, 'dim', -1, 'select'),
    'glu': (1, 'dim', -1, 'select'),
    'diff': (2, 'dim', -1, 'select'),
    'unfold': (1, 'dimension', None, 'select'),
}


def along_dim(tr: ChannelTracer, op: Op) -> None:
    """Ops along one dim: 'keep' ones (softmax, cumsum, normalize) keep
    every channel in place; 'select' ones (gather, flip, sort...) may move
    channels, so they are fine only along another dim."""
    t, info = first(op)
    outs = out_tensors(op.out)
    if info is None or not outs:
        unsupported(tr, op)
        return
    pos, kw, default, kind = DIM_OPS[op.key]
    n = t.dim()
    dims = norm_dims(op.arg(pos, kw, default), n)
    hit = dims is None or bool(set(dims) & set(info.dims))
    if hit and (kind == 'select' or info.split):
        fail(tr, op, info, f'{op.key} along the channel dim may move '
             'channels')
        return
    for o in outs:
        if o.dim() == n and all(o.shape[d] == t.shape[d]
                                for d in info.dims):
            tr.set(o, info)
        elif o.dim() == n - 1 and op.key == 'select':
            tr.set(o, info._replace(
                dims=tuple(d - (d > dims[0]) for d in info.dims)))
        elif o.dim() == n + 1 and op.key == 'unfold':
            tr.set(o, info)
        else:
            fail(tr, op, info, f'{op.key} changes the channel dim')
            return
