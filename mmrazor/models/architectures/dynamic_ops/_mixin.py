# Copyright (c) OpenMMLab. All rights reserved.
"""What every dynamic op shares: mutable attributes and static export."""
import weakref
from abc import ABC, abstractmethod
from typing import Any, Callable, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmrazor.models.mutables.choice_epoch import (
    bump_choice_epoch,
    choice_epoch,
)
from mmrazor.models.mutables.mutable_channel import ChannelIndex

_CHANNEL_ATTRS = ('in_channels', 'out_channels', 'num_features')

# Inference caches of dynamic ops, kept outside the modules so that deep
# copies and pickles of a model never carry them.
_NO_GRAD_CACHES: 'weakref.WeakKeyDictionary[nn.Module, tuple]' = \
    weakref.WeakKeyDictionary()


class DynamicOpMixin(ABC):
    """Mutable attributes for a subclass of a static ``torch.nn`` op.

    A dynamic op is its static counterpart (same parameters, same
    ``state_dict``) plus ``mutable_attrs``: mutables registered for some of
    its attributes (``in_channels``, ``out_channels``, ``kernel_size``,
    ``depth``...). On each forward it runs the sub-shape the mutables choose
    by slicing its parameters; ``to_static_op`` returns the plain op of that
    sub-shape, and ``convert_from`` builds the dynamic op from a static one.

    Subclasses list ``accepted_mutable_attrs``, call
    :meth:`_init_mutable_attrs` in ``__init__`` and implement
    ``to_static_op``; those with a static counterpart in ``DYNAMIC_OF``
    also have a ``convert_from(module)`` classmethod.
    """

    accepted_mutable_attrs: Tuple[str, ...] = ()

    def _init_mutable_attrs(self) -> None:
        self.mutable_attrs = nn.ModuleDict()

    def register_mutable_attr(self, attr: str, mutable: Any) -> None:
        """Let ``mutable`` decide attribute ``attr`` of this op.

        Args:
            attr (str): One of ``accepted_mutable_attrs``.
            mutable: A mutable (channel mutables must have ``num_channels``
                equal to the op's size of that attribute).
        """
        name = type(self).__name__
        if attr not in self.accepted_mutable_attrs:
            raise ValueError(
                f'{name} has no mutable attribute {attr!r}; it accepts '
                f'{list(self.accepted_mutable_attrs)}')
        if attr in _CHANNEL_ATTRS:
            full = self._full_channels(attr)
            if getattr(mutable, 'num_channels', None) != full:
                raise ValueError(
                    f'{name}: the mutable for {attr!r} has num_channels='
                    f'{getattr(mutable, "num_channels", None)!r}, but the op '
                    f'has {full} {attr}')
        self._check_mutable_attr(attr, mutable)
        self.mutable_attrs[attr] = mutable
        bump_choice_epoch()

    def _full_channels(self, attr: str) -> int:
        return getattr(self, attr)

    def _check_mutable_attr(self, attr: str, mutable: Any) -> None:
        """Extra checks of a subclass; raise ValueError when unfit. The
        common checks are in :meth:`register_mutable_attr`; this hook adds
        none."""
        return None

    def get_mutable_attr(self, attr: str) -> Optional[Any]:
        """The mutable registered for ``attr``, or None."""
        return self.mutable_attrs._modules.get(attr)

    def channel_index(self, attr: str) -> ChannelIndex:
        """Active-channel index of ``attr`` (None: all channels)."""
        mutable = self.mutable_attrs._modules.get(attr)
        return None if mutable is None else mutable.activated_index

    def cached_when_no_grad(self, tensors: Sequence[Optional[torch.Tensor]],
                            compute: Callable[[], Any]) -> Any:
        """``compute()``, reused in eval mode while nothing changed.

        In eval mode with autograd off, the result (the sliced, contiguous
        parameters of the current sub-shape) is kept until the choice epoch
        (see :mod:`mmrazor.models.mutables.choice_epoch`: any choice change
        or optimizer step) changes, or one of ``tensors`` (those it is
        computed from) is replaced, moved, cast or updated in place, so a
        chosen subnet runs on dense weights, as its static export does, at
        the cost of a few comparisons per forward. The cache lives outside
        the module (a deep copy or a pickle starts without it). In training
        mode or with autograd on, nothing is cached.
        """
        if self.training or torch.is_grad_enabled():
            return compute()
        epoch = choice_epoch()
        cache = _NO_GRAD_CACHES.get(self)
        if cache is not None and cache[0] == epoch and \
                len(cache[1]) == len(tensors):
            for (cached, version, pointer), t in zip(cache[1], tensors):
                if cached is not t or (t is not None and (
                        t._version != version or t.data_ptr() != pointer)):
                    break
            else:
                return cache[2]
        value = compute()
        state = [(t, None, None) if t is None else
                 (t, t._version, t.data_ptr()) for t in tensors]
        _NO_GRAD_CACHES[self] = (epoch, state, value)
        return value

    @abstractmethod
    def to_static_op(self) -> nn.Module:
        """The plain op of the current sub-shape, with copied weights."""

