# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's derivation methods and operators of mutables.

``mutable * 2``, ``2 * mutable``, ``mutable // 2``, ``mutable // (2, 8)``,
``derive_expand_mutable``, ``derive_divide_mutable``,
``derive_same_mutable`` and ``derive_concat_mutable`` give a
:class:`~.derived_mutable.DerivedMutable` that follows its sources. Kept
apart from ``derived_mutable`` so that mutable channels can mix it in
without an import cycle.
"""
import functools
from typing import Any, List, Optional, Sequence, Tuple, Union

import torch

from mmrazor.utils.channels import make_divisible


def value_of(source: Any) -> Any:
    """The current value of a mutable, a derived mutable or a constant."""
    if hasattr(source, 'activated_channels'):
        return source.activated_channels
    if hasattr(source, 'current_choice'):
        return source.current_choice
    return source



def _expanded(values: List[Any], ratio: Union[int, float]) -> int:
    """``int(value * ratio)``, the original's expand rule."""
    return int(values[0] * ratio)


def _divided(values: List[Any], ratio: int, divisor: int) -> int:
    """``make_divisible(value // ratio, divisor)``, the original's divide
    rule."""
    return make_divisible(values[0] // ratio, divisor)


def _concatenated(values: List[Any]) -> int:
    return sum(values)


def _mask_of(source: Any) -> torch.Tensor:
    mask = getattr(source, 'current_mask', None)
    if mask is None:
        raise TypeError(
            f'{type(source).__name__} has no `current_mask`; a concatenated '
            'or channel-derived mutable needs mutable channels as sources')
    return mask


def _concat_masks(sources: List[Any]) -> torch.Tensor:
    return torch.cat([_mask_of(s) for s in sources])


def _num_channels_of(source: Any) -> Optional[int]:
    """The full channel count of a channel mutable, else None."""
    num = getattr(source, 'num_channels', None)
    return num if isinstance(num, int) else None


class DerivedMethodMixin:
    """The original MMRazor's ways to derive a mutable from this one.

    Mixed into value mutables, mutable channels and derived mutables; the
    ``*`` and ``//`` operators of value mutables and channels call them.
    """

    def derive_same_mutable(self) -> Any:
        """A derived mutable always equal to this one."""
        return self.derive_expand_mutable(1)

    def derive_expand_mutable(self, expand_ratio: Union[int, float, Any]
                              ) -> Any:
        """``int(current * expand_ratio)``; for a mutable channel also a
        channel count of ``int(num_channels * expand_ratio)`` channels.

        Args:
            expand_ratio (int | float | mutable): The ratio. A mutable
                ratio is read once, now, as in the original (multiply by a
                value mutable with ``*`` to follow it).
        """
        ratio = value_of(expand_ratio)
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)):
            raise TypeError(f'{type(self).__name__}.derive_expand_mutable: '
                            f'the ratio must be an int, a float or a value '
                            f'mutable, but got {expand_ratio!r}')
        num = _num_channels_of(self)
        return _derived()(
            functools.partial(_expanded, ratio=ratio), [self],
            num_channels=None if num is None else int(num * ratio))

    def derive_divide_mutable(self,
                              ratio: Union[int, float, Any],
                              divisor: int = 8) -> Any:
        """``make_divisible(current // ratio, divisor)``, as the original.

        Args:
            ratio (int | float | mutable): The divisor of the value; a
                float or a mutable is truncated to an int and then, as in
                the original, no rounding to ``divisor`` applies.
            divisor (int): Round the quotient to a multiple of it.
                Defaults to 8.
        """
        value = value_of(ratio)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f'{type(self).__name__}.derive_divide_mutable: '
                            f'the ratio must be an int, a float or a value '
                            f'mutable, but got {ratio!r}')
        if not isinstance(ratio, int):
            value, divisor = int(value), 1
        num = _num_channels_of(self)
        return _derived()(
            functools.partial(_divided, ratio=value, divisor=divisor),
            [self],
            num_channels=None if num is None else make_divisible(
                num // value, divisor))

    @staticmethod
    def derive_concat_mutable(mutables: Sequence[Any]) -> Any:
        """The concatenation of mutable channels (``torch.cat`` of their
        outputs): the sum of their values, the concatenation of their
        masks."""
        mutables = list(mutables)
        for mutable in mutables:
            _mask_of(mutable)
        return _derived()(
            _concatenated,
            mutables,
            num_channels=sum(int(_mask_of(m).numel()) for m in mutables),
            mask_fn=_concat_masks)

    def __mul__(self, other: Any) -> Any:
        """``mutable * ratio``: see :meth:`derive_expand_mutable`; a value
        mutable times a value mutable (or a channel) follows both."""
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return self.derive_expand_mutable(other)
        if hasattr(other, 'current_choice'):
            return _derived().scaled([self, other],
                                         num_channels=_product_channels(
                                             self, other))
        return NotImplemented

    def __rmul__(self, other: Any) -> Any:
        return self.__mul__(other)

    def __floordiv__(self, other: Union[int, float, Tuple[int, int], Any]
                     ) -> Any:
        """``mutable // ratio`` or ``mutable // (ratio, divisor)``: see
        :meth:`derive_divide_mutable`."""
        if isinstance(other, tuple):
            if len(other) != 2:
                raise ValueError('mutable // (ratio, divisor) needs a pair, '
                                 f'but got {other!r}')
            return self.derive_divide_mutable(*other)
        if isinstance(other, (int, float)) and not isinstance(other, bool) \
                or hasattr(other, 'current_choice'):
            return self.derive_divide_mutable(other)
        return NotImplemented


def _product_channels(first: Any, second: Any) -> Optional[int]:
    """The full channel count of ``channel * value mutable``: the channel's
    count times the value's largest choice (None without a channel)."""
    for channel, value in ((first, second), (second, first)):
        num = _num_channels_of(channel)
        if num is not None:
            choices = getattr(value, 'choices', None)
            top = max(choices) if choices else value_of(value)
            return int(num * top)
    return None


def _derived() -> type:
    """The ``DerivedMutable`` class (imported late: it mixes this in)."""
    from .derived_mutable import DerivedMutable
    return DerivedMutable
