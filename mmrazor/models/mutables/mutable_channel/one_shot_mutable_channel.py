# Copyright (c) OpenMMLab. All rights reserved.
"""A searchable number of channels: the first k of a layer are active."""
from typing import Dict, List, Optional, Union

from mmrazor.registry import MODELS
from mmrazor.utils import DumpChosen
from mmrazor.utils.channels import check_choice_mode, choice_to_channels

from ..base_mutable import BaseMutable
from ..choice_epoch import bump_choice_epoch
from ..derive_methods import DerivedMethodMixin
from ._index import PrefixChannels

Choice = Union[int, float]


@MODELS.register_module()
class OneShotMutableChannel(PrefixChannels, DerivedMethodMixin, BaseMutable):
    """A channel width chosen from ``candidate_choices`` (one-shot NAS).

    It is a mutable a :class:`~mmrazor.models.NasMutator` searches, and a
    channel mutable dynamic ops read (``num_channels``,
    ``activated_channels``, ``current_mask``, ``activated_index``). The
    first ``activated_channels`` channels are active, as in slimmable and
    once-for-all networks.

    Args:
        num_channels (int): Number of channels of the full layer.
        candidate_choices (list): Channel counts (``choice_mode='number'``)
            or ratios of ``num_channels`` (``'ratio'``).
        choice_mode (str): ``'number'`` or ``'ratio'``. Defaults to
            ``'number'``.
        alias (str, optional): Search-group name. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 num_channels: int,
                 candidate_choices: List[Choice],
                 choice_mode: str = 'number',
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        name = type(self).__name__
        if not isinstance(num_channels, int) or num_channels < 1:
            raise ValueError(f'{name}: `num_channels` must be a positive int,'
                             f' but got {num_channels!r}')
        check_choice_mode(name, choice_mode)
        if not isinstance(candidate_choices, (list, tuple)) or \
                not candidate_choices:
            raise ValueError(f'{name}: `candidate_choices` must be a '
                             f'non-empty list, but got {candidate_choices!r}')
        for choice in candidate_choices:
            choice_to_channels(choice, num_channels, choice_mode,
                               f'{name} (candidate_choices)')
        self.num_channels = num_channels
        self.choice_mode = choice_mode
        self._choices = sorted(set(candidate_choices))
        self._current_choice = self._choices[-1]
        self._num_active = self._to_number(self._current_choice)

    def _to_number(self, choice: Choice) -> int:
        return choice_to_channels(choice, self.num_channels,
                                  self.choice_mode, type(self).__name__)

    @property
    def choices(self) -> List[Choice]:
        """The candidate choices, smallest first."""
        return list(self._choices)

    @property
    def min_choice(self) -> Choice:
        """The smallest choice."""
        return self._choices[0]

    @property
    def max_choice(self) -> Choice:
        """The largest choice."""
        return self._choices[-1]

    @property
    def current_choice(self) -> Choice:
        """The current count or ratio."""
        return self._current_choice

    @current_choice.setter
    def current_choice(self, choice: Choice) -> None:
        self.check_choice(choice)
        if self.is_fixed and choice != self._current_choice:
            raise AttributeError(
                f'{self._describe()} is fixed to {self._current_choice!r}; '
                f'it cannot take {choice!r}')
        self._current_choice = choice
        self._num_active = self._to_number(choice)
        bump_choice_epoch()


    def fix_chosen(self, chosen: Choice) -> None:
        """Fix the width to ``chosen`` and drop the other choices."""
        if self.is_fixed and chosen != self._current_choice:
            raise AttributeError(
                f'{self._describe()} is already fixed to '
                f'{self._current_choice!r}; it cannot be fixed to {chosen!r}')
        self.current_choice = chosen
        self._choices = [chosen]
        self.is_fixed = True

    def dump_chosen(self) -> DumpChosen:
        """The current choice, with the candidates and width as ``meta``."""
        return DumpChosen(
            chosen=self._current_choice,
            meta=dict(all_choices=self.choices,
                      num_channels=self.num_channels))

    def extra_repr(self) -> str:
        return (f'num_channels={self.num_channels}, '
                f'activated_channels={self._num_active}, '
                f'{super().extra_repr()}')
