# Copyright (c) OpenMMLab. All rights reserved.
"""Values computed from other mutables (e.g. mid channels of a block)."""
import functools
import math
from typing import Any, Callable, List, Optional, Sequence

import torch
import torch.nn as nn

from mmrazor.utils.channels import make_divisible

from .derive_methods import DerivedMethodMixin, value_of
from .mutable_channel._index import ChannelIndex, mask_to_index, prefix_index


def _scaled(values: List[Any], divisor: Optional[int],
            min_value: Optional[int]) -> int:
    product = math.prod(values)
    if divisor is None:
        return int(product)
    return make_divisible(product, divisor, min_value)


class DerivedMutable(DerivedMethodMixin, nn.Module):
    """A value computed from the current values of other mutables.

    A derived mutable is not searched (a mutator skips it); it follows its
    sources. Its function must be a module-level callable (or a
    ``functools.partial`` of one) so that a deep copy of the model derives
    from the copied sources. The sources are kept by reference, not as
    submodules: they belong to the modules that registered them.

    When ``num_channels`` is given the derived value is a channel count and
    the mutable honours the channel contract (the first channels are
    active), so dynamic ops can read it like any mutable channel.

    Args:
        fn (callable): ``fn(list_of_source_values) -> value``.
        sources (sequence): Mutables, derived mutables or constants.
        num_channels (int, optional): Full channel count when the value is
            a number of channels. Defaults to None.
        mask_fn (callable, optional): ``mask_fn(sources) -> bool tensor`` of
            length ``num_channels``, for channels that are not the first
            ones (a concatenation). Defaults to the first
            ``activated_channels`` channels.

    Examples:
        >>> from mmrazor.models.mutables import (OneShotMutableChannel,
        ...                                      OneShotMutableValue)
        >>> in_ch = OneShotMutableChannel(32, [16, 24, 32])
        >>> ratio = OneShotMutableValue([4, 6])
        >>> mid = DerivedMutable.scaled([in_ch, ratio], divisor=8,
        ...                             num_channels=192)
        >>> mid.activated_channels
        192
    """

    def __init__(self,
                 fn: Callable[[List[Any]], Any],
                 sources: Sequence[Any],
                 num_channels: Optional[int] = None,
                 mask_fn: Optional[Callable[[List[Any]],
                                            torch.Tensor]] = None) -> None:
        super().__init__()
        self.fn = fn
        self.__dict__['sources'] = list(sources)
        self.num_channels = num_channels
        self.mask_fn = mask_fn

    @classmethod
    def scaled(cls,
               sources: Sequence[Any],
               divisor: Optional[int] = None,
               min_value: Optional[int] = None,
               num_channels: Optional[int] = None) -> 'DerivedMutable':
        """The product of the sources, rounded by :func:`make_divisible`.

        Args:
            sources (sequence): Factors: mutables or numbers.
            divisor (int, optional): Round to a multiple of it (None keeps
                ``int(product)``). Defaults to None.
            min_value (int, optional): Lower bound of the rounding.
            num_channels (int, optional): See the class docstring.
        """
        fn = functools.partial(_scaled, divisor=divisor, min_value=min_value)
        return cls(fn, sources, num_channels)

    @property
    def current_choice(self) -> Any:
        """The derived value."""
        return self.fn([value_of(s) for s in self.sources])

    @property
    def activated_channels(self) -> int:
        """The derived channel count, bounded by ``num_channels``."""
        if self.num_channels is None:
            raise AttributeError('This DerivedMutable is not a channel count;'
                                 ' build it with `num_channels`')
        if self.mask_fn is not None:
            return int(self.current_mask.sum())
        value = int(self.current_choice)
        if not 1 <= value <= self.num_channels:
            raise ValueError(
                f'DerivedMutable: derived {value} channels, outside '
                f'[1, {self.num_channels}]; check the sources\' choices')
        return value

    @property
    def current_mask(self) -> torch.Tensor:
        """Bool mask: the first ``activated_channels`` channels, or what
        ``mask_fn`` gives."""
        if self.mask_fn is not None:
            return self.mask_fn(self.sources).bool()
        mask = torch.zeros(self.num_channels, dtype=torch.bool)
        mask[:self.activated_channels] = True
        return mask

    @property
    def activated_index(self) -> ChannelIndex:
        """``None`` at full width, else a prefix slice (or the indices of
        the mask given by ``mask_fn``)."""
        if self.mask_fn is not None:
            return mask_to_index(self.current_mask)
        return prefix_index(self.activated_channels, self.num_channels)

    @property
    def source_mutables(self) -> List[Any]:
        """The mutables this one derives from (the original's name)."""
        return [s for s in self.sources if hasattr(s, 'current_choice')]

    @property
    def is_fixed(self) -> bool:
        """Whether every source mutable is fixed."""
        return all(getattr(s, 'is_fixed', True) for s in self.sources)

    def extra_repr(self) -> str:
        return f'num_channels={self.num_channels}, value={self.current_choice}'
