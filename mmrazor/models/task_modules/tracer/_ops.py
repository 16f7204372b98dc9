# Copyright (c) OpenMMLab. All rights reserved.
"""Data types of the channel tracer and helpers shared by its rules.

An :class:`Info` says which dims of a tensor hold channels and which
channel segments (see :mod:`._graph`) it carries; an :class:`Op` is one
intercepted call as a rule sees it; a :class:`RuleSet` maps op keys
(:func:`op_key`) to rules ``rule(tracer, op)``.
"""
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    NamedTuple,
    Optional,
    Tuple,
)

from torch import Tensor, nn

from ._graph import Segs, seg_len

if TYPE_CHECKING:  # pragma: no cover
    from ._tracer import ChannelTracer

# Dunder methods whose name is not the op they run.
_DUNDER = {
    'truediv': 'div', 'rtruediv': 'div', 'itruediv': 'div',
    'floordiv': 'floor_divide', 'rfloordiv': 'floor_divide',
    'ifloordiv': 'floor_divide', 'mod': 'remainder', 'rmod': 'remainder',
    'imod': 'remainder', 'radd': 'add', 'iadd': 'add', 'rsub': 'sub',
    'isub': 'sub', 'rmul': 'mul', 'imul': 'mul', 'rpow': 'pow',
    'ipow': 'pow', 'imatmul': 'matmul', 'rand': 'and', 'iand': 'and',
    'ror': 'or', 'ior': 'or', 'rxor': 'xor', 'ixor': 'xor',
    'invert': 'bitwise_not', 'lshift': 'shift', 'rlshift': 'shift',
    'ilshift': 'shift', 'rshift': 'shift', 'rrshift': 'shift',
    'irshift': 'shift',
}


class Info(NamedTuple):
    """The channels a tensor carries.

    Args:
        dims (tuple[int]): The dims holding channels: one, or several after a
            reshape split the channel dim (attention heads, channel
            shuffle).
        ranks (tuple[int]): Significance of each of ``dims`` in the channel
            index (0: most significant); out of order after a transpose.
        segs (tuple): Channel segments ``(block, start, end)``.
        expand (int): Indices per channel along a single channel dim: after
            flattening ``(C, H, W)``, channel ``c`` spans indices
            ``[c * H * W, (c + 1) * H * W)``.
    """
    dims: Tuple[int, ...]
    ranks: Tuple[int, ...]
    segs: Segs
    expand: int = 1

    @staticmethod
    def at(dim: int, segs: Segs, expand: int = 1) -> 'Info':
        """An info with one channel dim."""
        return Info((dim, ), (0, ), segs, expand)

    @property
    def split(self) -> bool:
        """Whether the channels span several dims."""
        return len(self.dims) > 1

    @property
    def dim(self) -> int:
        """The (first) channel dim."""
        return self.dims[0]

    @property
    def channels(self) -> int:
        """The number of channels."""
        return seg_len(self.segs)


class Op(NamedTuple):
    """One intercepted call, as the rules see it."""
    key: str
    func: Callable
    args: tuple
    kwargs: dict
    out: Any
    tracked: List[Tuple[Tensor, Info]]

    def arg(self, pos: int, name: str, default: Any = None) -> Any:
        """Argument ``name``, given by keyword or at position ``pos``."""
        if name in self.kwargs:
            return self.kwargs[name]
        return self.args[pos] if len(self.args) > pos else default


def op_key(func: Callable) -> str:
    """The rule name of a function: ``torch.Tensor.add_``, ``Tensor.__radd__``
    and ``torch.add`` are all 'add'; a property read is its name."""
    name = getattr(func, '__name__', '')
    if name == '__get__':
        return getattr(getattr(func, '__self__', None), '__name__', name)
    if name.startswith('__') and name.endswith('__'):
        core = name[2:-2]
        return _DUNDER.get(core, core)
    if name.endswith('_') and not name.startswith('_'):
        return name[:-1]
    return name


def op_name(func: Callable) -> str:
    """A readable name: 'torch.Tensor.view', 'torch.cat',
    'torch.nn.functional.relu'."""
    name = getattr(func, '__name__', repr(func))
    if name == '__get__':
        prop = getattr(getattr(func, '__self__', None), '__name__', name)
        return f'torch.Tensor.{prop}'
    qual = getattr(func, '__qualname__', name)
    owner = getattr(getattr(func, '__self__', None), '__name__', '')
    if qual.startswith('TensorBase.'):
        return 'torch.Tensor.' + qual[len('TensorBase.'):]
    if qual.startswith('_VariableFunctionsClass.'):
        return 'torch.' + qual[len('_VariableFunctionsClass.'):]
    if owner == 'torch._C._nn':
        return f'torch.nn.functional.{name}'
    module = getattr(func, '__module__', None) or owner
    return f'{module}.{qual}' if module else qual


def iter_tensors(data: Any, depth: int = 0) -> Iterable[Tensor]:
    """Tensors in ``data``: a tensor, or tuples, lists, dicts and plain
    objects (data samples) holding tensors, up to 8 levels deep."""
    if isinstance(data, Tensor):
        yield data
    elif depth >= 8 or isinstance(data, (str, bytes, nn.Module)):
        return
    elif isinstance(data, (tuple, list)):
        for d in data:
            yield from iter_tensors(d, depth + 1)
    elif isinstance(data, dict):
        for d in data.values():
            yield from iter_tensors(d, depth + 1)
    elif hasattr(data, '__dict__'):
        for d in vars(data).values():
            yield from iter_tensors(d, depth + 1)


def out_tensors(out: Any) -> List[Tensor]:
    """The tensors an op returned (one level of tuples and lists)."""
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [o for o in out if isinstance(o, Tensor)]
    return []


class TraceError(RuntimeError):
    """The traced forward raised; the cause is ``__cause__``.

    Args:
        module (str, optional): The innermost module running then.
        op (str, optional): The torch op that raised, if one did.
    """

    def __init__(self, module: Optional[str], op: Optional[str]) -> None:
        super().__init__(f'the traced forward failed in module {module!r} '
                         f'(op {op!r})')
        self.module = module
        self.op = op


class RuleSet(NamedTuple):
    """The op rules a tracer applies.

    Args:
        rules (dict): ``{op key: rule(tracer, op)}``, see :func:`op_key`.
        fallback (callable): The rule of ops missing from ``rules``.
        always (frozenset): Keys whose rule runs even without traced inputs.
        no_output (frozenset): Keys whose rule runs even when the op returns
            no tensor (other such ops are skipped).
    """
    rules: Dict[str, Callable]
    fallback: Callable
    always: frozenset
    no_output: frozenset


# -- helpers of the rules ----------------------------------------------------
HEADS = 'channels reshaped into several dims (e.g. attention heads)'
FIXED_CUT = ('pruning would move channels across the pieces or change a '
             'fixed size')


class Unsupported(Exception):
    """An op moves channels in a way the tracer cannot follow."""


class Shuffle(Unsupported):
    """A reshape merges channel dims back in another order."""

    def __init__(self, dim: int) -> None:
        super().__init__('channel shuffle')
        self.dim = dim


def why(info: Info, reason: str) -> str:
    """``reason``, prefixed when the channels are split into heads."""
    return f'{HEADS}, then {reason}' if info.split else reason


def fail(tr: 'ChannelTracer', op: Op, info: Info, reason: str) -> None:
    """Poison ``info``'s channels at ``op``."""
    tr.poison(info.segs, op, why(info, reason))


def first(op: Op) -> Tuple[Any, Optional[Info]]:
    """The first argument and its info."""
    for t, info in op.tracked:
        if op.args and t is op.args[0]:
            return t, info
    return (op.args[0] if op.args else None), None


def norm_dims(dims: Any, ndim: int) -> Optional[List[int]]:
    """A dim argument (int, sequence or None) as non-negative ints."""
    if dims is None:
        return None
    if isinstance(dims, int):
        dims = [dims]
    return [int(d) % ndim for d in dims] if ndim else []


def same_layout(a: Info, b: Info) -> bool:
    """Whether two infos hold equally many channels in the same dims."""
    return (a.dims == b.dims and a.ranks == b.ranks and a.expand == b.expand
            and a.channels == b.channels)


def tensor_args(op: Op) -> Iterable[Tensor]:
    """The tensors among the arguments of ``op`` (one level of lists)."""
    for a in (*op.args, *op.kwargs.values()):
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from (b for b in a if isinstance(b, Tensor))
