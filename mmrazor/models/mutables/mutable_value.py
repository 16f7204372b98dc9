# Copyright (c) OpenMMLab. All rights reserved.
"""Mutables whose choice is a plain value (kernel size, ratio, depth...)."""
from typing import Any, Dict, List, Optional

from mmrazor.registry import MODELS
from mmrazor.utils import DumpChosen

from .base_mutable import BaseMutable
from .choice_epoch import bump_choice_epoch
from .derived_mutable import DerivedMethodMixin


@MODELS.register_module()
class MutableValue(DerivedMethodMixin, BaseMutable):
    """A value chosen from ``value_list``.

    The mutable does not run anything: modules read ``current_choice`` (for
    instance a kernel size or an expand ratio) when they build or forward.
    ``mutable * 2`` and ``mutable // 2`` (or ``// (ratio, divisor)``) give
    :class:`DerivedMutable` values that follow it, as in the original
    MMRazor.

    Args:
        value_list (list): The candidate values. Must be non-empty and hold
            no duplicates.
        default_value (optional): The initial ``current_choice``. Defaults to
            the first value.
        alias (str, optional): Search-group name shared with other mutables.
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> mutable = MutableValue(value_list=[3, 5, 7])
        >>> mutable.current_choice
        3
        >>> (mutable * 2).current_choice
        6
    """

    def __init__(self,
                 value_list: List[Any],
                 default_value: Optional[Any] = None,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        if not isinstance(value_list, (list, tuple)) or len(value_list) == 0:
            raise ValueError(f'{type(self).__name__}: `value_list` must be '
                             f'a non-empty list, but got {value_list!r}')
        if any(v in value_list[:i] for i, v in enumerate(value_list)):
            raise ValueError(f'{type(self).__name__}: `value_list` must not '
                             f'hold duplicates, but got {value_list!r}')
        self._value_list = list(value_list)
        if default_value is None:
            default_value = self._default()
        self.check_choice(default_value)
        self._current_choice = default_value

    def _default(self) -> Any:
        return self._value_list[0]

    @property
    def choices(self) -> List[Any]:
        """The candidate values, in the order they were given."""
        return list(self._value_list)

    @property
    def current_choice(self) -> Any:
        """The value currently chosen."""
        return self._current_choice

    @current_choice.setter
    def current_choice(self, choice: Any) -> None:
        self.check_choice(choice)
        if self.is_fixed and choice != self._current_choice:
            raise AttributeError(
                f'{self._describe()} is fixed to {self._current_choice!r}; '
                f'it cannot take {choice!r}')
        self._current_choice = choice
        bump_choice_epoch()

    def fix_chosen(self, chosen: Any) -> None:
        """Fix the value to ``chosen`` and drop the other values.

        Args:
            chosen: One of ``choices``.
        """
        if self.is_fixed and chosen != self._current_choice:
            raise AttributeError(
                f'{self._describe()} is already fixed to '
                f'{self._current_choice!r}; it cannot be fixed to {chosen!r}')
        self.check_choice(chosen)
        self._current_choice = chosen
        self._value_list = [chosen]
        self.is_fixed = True
        bump_choice_epoch()

    def dump_chosen(self) -> DumpChosen:
        """Return the current value, with all values as ``meta``."""
        return DumpChosen(
            chosen=self._current_choice,
            meta=dict(all_choices=self.choices))


@MODELS.register_module()
class OneShotMutableValue(MutableValue):
    """A value chosen from ``value_list``, sampled uniformly in one-shot NAS.

    Args:
        value_list (list): The candidate values. Must be non-empty and hold
            no duplicates.
        default_value (optional): The initial ``current_choice``. Defaults to
            the largest value when the values are ordered, else the first.
        alias (str, optional): Search-group name shared with other mutables.
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> mutable = OneShotMutableValue(value_list=[3, 5, 7])
        >>> mutable.current_choice
        7
        >>> mutable.current_choice = 3
        >>> mutable.dump_chosen().chosen
        3
    """

    def _default(self) -> Any:
        try:
            return max(self._value_list)
        except TypeError:
            return self._value_list[0]

    @property
    def min_choice(self) -> Any:
        """The smallest value."""
        return min(self._value_list)

    @property
    def max_choice(self) -> Any:
        """The largest value."""
        return max(self._value_list)
