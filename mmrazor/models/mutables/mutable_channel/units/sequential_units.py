# Copyright (c) OpenMMLab. All rights reserved.
"""Units that keep the first channels: by count, ratio or candidates."""
import random
from typing import Any, Dict, List, Optional, Union

import torch.nn as nn

from mmrazor.registry import MODELS
from mmrazor.utils.channels import check_choice_mode, choice_to_channels

from ..mutable_channels import SequentialMutableChannel
from .channel_unit import MutableChannelUnit

Choice = Union[int, float]


@MODELS.register_module()
class SequentialMutableChannelUnit(MutableChannelUnit):
    """A unit whose active channels are its first ones.

    A choice is a count (``choice_mode='number'``) or a ratio of
    ``num_channels`` (``'ratio'``); the count is rounded by
    :func:`~mmrazor.utils.channels.make_divisible` with ``divisor``,
    ``min_value`` and ``min_ratio`` and never exceeds ``num_channels``.

    Args:
        num_channels (int): Number of channels of the unit.
        choice_mode (str): ``'number'`` or ``'ratio'``. Defaults to
            ``'number'``.
        divisor (int): Counts are multiples of it. Defaults to 1.
        min_value (int): Smallest count. Defaults to 1.
        min_ratio (float): Rounding keeps at least this share of the exact
            count. Defaults to 0.9.
    """

    def __init__(self,
                 num_channels: int,
                 choice_mode: str = 'number',
                 divisor: int = 1,
                 min_value: int = 1,
                 min_ratio: float = 0.9,
                 **kwargs) -> None:
        check_choice_mode(self, choice_mode)
        self.choice_mode = choice_mode
        self.divisor = divisor
        self.min_value = min_value
        self.min_ratio = min_ratio
        super().__init__(num_channels, **kwargs)
        self._choice: Choice = 1.0 if choice_mode == 'ratio' else \
            num_channels

    def _build_mutable_channel(self) -> nn.Module:
        return SequentialMutableChannel(self.num_channels)

    @property
    def init_args(self) -> Dict[str, Any]:
        return dict(num_channels=self.num_channels,
                    choice_mode=self.choice_mode, divisor=self.divisor,
                    min_value=self.min_value, min_ratio=self.min_ratio)

    def choice_to_number(self, choice: Choice) -> int:
        """The number of channels a choice keeps (see
        :func:`~mmrazor.utils.channels.choice_to_channels`)."""
        return choice_to_channels(choice, self.num_channels,
                                  self.choice_mode, self._describe(),
                                  self.divisor, self.min_value,
                                  self.min_ratio)

    @property
    def choices(self) -> List[Choice]:
        """Every count (or ratio of each count)."""
        counts = range(1, self.num_channels + 1)
        if self.choice_mode == 'ratio':
            return [c / self.num_channels for c in counts]
        return list(counts)

    def check_choice(self, choice: Any) -> None:
        self.choice_to_number(choice)

    @property
    def current_choice(self) -> Choice:
        """The current count or ratio."""
        return self._choice

    @current_choice.setter
    def current_choice(self, choice: Choice) -> None:
        number = self.choice_to_number(choice)
        if self.is_fixed and choice != self._choice:
            raise AttributeError(f'{self._describe()} is fixed to '
                                 f'{self._choice!r}; it cannot take '
                                 f'{choice!r}')
        self._choice = choice
        self.mutable_channel.current_choice = number


@MODELS.register_module()
class OneShotMutableChannelUnit(SequentialMutableChannelUnit):
    """A sequential unit searched among ``candidate_choices``.

    Used by AutoSlim and other one-shot channel searches: a mutator samples
    one of the candidates uniformly, or the smallest / largest.

    Args:
        num_channels (int): Number of channels of the unit.
        candidate_choices (list): Counts or ratios. Defaults to
            ``[0.5, 0.75, 1.0]``.
        choice_mode (str): ``'number'`` or ``'ratio'``. Defaults to
            ``'ratio'``.
        divisor (int): Counts are multiples of it. Defaults to 1.
        min_value (int): Smallest count. Defaults to 1.
        min_ratio (float): See :class:`SequentialMutableChannelUnit`.
    """

    def __init__(self,
                 num_channels: int,
                 candidate_choices: Optional[List[Choice]] = None,
                 choice_mode: str = 'ratio',
                 divisor: int = 1,
                 min_value: int = 1,
                 min_ratio: float = 0.9,
                 **kwargs) -> None:
        super().__init__(num_channels, choice_mode, divisor, min_value,
                         min_ratio, **kwargs)
        if candidate_choices is None:
            candidate_choices = [0.5, 0.75, 1.0]
        if not isinstance(candidate_choices, (list, tuple)) or \
                not candidate_choices:
            raise ValueError(f'{type(self).__name__}: `candidate_choices` '
                             f'must be a non-empty list, got '
                             f'{candidate_choices!r}')
        for choice in candidate_choices:
            self.choice_to_number(choice)
        self.candidate_choices = sorted(set(candidate_choices))
        self.current_choice = self.candidate_choices[-1]

    @property
    def init_args(self) -> Dict[str, Any]:
        return dict(super().init_args,
                    candidate_choices=list(self.candidate_choices))

    @property
    def choices(self) -> List[Choice]:
        """The candidates, smallest first."""
        return list(self.candidate_choices)

    def check_choice(self, choice: Any) -> None:
        if choice not in self.candidate_choices:
            raise ValueError(
                f'{self._describe()} got choice {choice!r}, which is not one '
                f'of its candidate choices: {self.candidate_choices}')

    @property
    def current_choice(self) -> Choice:
        return self._choice

    @current_choice.setter
    def current_choice(self, choice: Choice) -> None:
        self.check_choice(choice)
        SequentialMutableChannelUnit.current_choice.fset(self, choice)

    def sample_choice(self) -> Choice:
        """A candidate drawn uniformly."""
        return random.choice(self.candidate_choices)

    @property
    def min_choice(self) -> Choice:
        """The smallest candidate."""
        return self.candidate_choices[0]

    @property
    def max_choice(self) -> Choice:
        """The largest candidate."""
        return self.candidate_choices[-1]

    def fix_chosen(self, chosen: Choice) -> None:
        """Fix to ``chosen``; it stays the only candidate."""
        super().fix_chosen(chosen)
        self.candidate_choices = [chosen]
