# Copyright (c) OpenMMLab. All rights reserved.
"""Mutable channels: which of a layer's channels are active.

Every channel mutable honours the same small contract, which dynamic ops
read on each forward:

- ``num_channels``: the number of channels of the full layer;
- ``activated_channels``: how many are active now;
- ``current_mask``: a bool tensor of length ``num_channels``;
- ``activated_index``: ``None`` (all active), a ``slice`` (a prefix) or a
  ``LongTensor`` (any other mask), cached until the choice changes.

The classes here are driven from outside (by channel units or a backbone);
:class:`~mmrazor.models.mutables.OneShotMutableChannel` is the searchable
kind a mutator samples.
"""
from abc import ABC, abstractmethod
from typing import Union

import torch
import torch.nn as nn

from mmrazor.registry import MODELS
from mmrazor.utils.channels import check_choice_mode, choice_to_channels

from ..choice_epoch import bump_choice_epoch
from ..derive_methods import DerivedMethodMixin
from ._index import ChannelIndex, PrefixChannels, mask_to_index


class MutableChannel(DerivedMethodMixin, nn.Module, ABC):
    """Base of channel mutables driven by a unit or a backbone.

    The original MMRazor's name of this base is ``BaseMutableChannel``
    (an alias here). ``channel * 2``, ``channel * value_mutable`` and
    ``channel // 2`` derive channel counts that follow it.

    Args:
        num_channels (int): Number of channels of the full layer.
    """

    def __init__(self, num_channels: int) -> None:
        super().__init__()
        if not isinstance(num_channels, int) or num_channels < 1:
            raise ValueError(f'{type(self).__name__}: `num_channels` must be '
                             f'a positive int, but got {num_channels!r}')
        self.num_channels = num_channels
        self.version = 0
        self._index_cache = (-1, None)

    @property
    @abstractmethod
    def current_mask(self) -> torch.Tensor:
        """Bool mask of the active channels."""

    @property
    def activated_channels(self) -> int:
        """Number of active channels."""
        return int(self.current_mask.sum())

    @property
    def activated_index(self) -> ChannelIndex:
        """Index of the active channels (see the module docstring)."""
        version, index = self._index_cache
        if version != self.version:
            index = mask_to_index(self.current_mask)
            self._index_cache = (self.version, index)
        return index

    def _changed(self) -> None:
        self.version += 1
        bump_choice_epoch()

    def extra_repr(self) -> str:
        return (f'num_channels={self.num_channels}, '
                f'activated_channels={self.activated_channels}')


@MODELS.register_module()
class SimpleMutableChannel(MutableChannel):
    """A channel mutable whose choice is any bool mask (used in pruning).

    Args:
        num_channels (int): Number of channels of the full layer.
    """

    def __init__(self, num_channels: int) -> None:
        super().__init__(num_channels)
        # A plain attribute, not a buffer: module-wide tensor swaps (meta
        # device counting, ``functional_call``) must not replace it. Dynamic
        # ops move the index they derive from it to their weights' device.
        self.mask = torch.ones(num_channels, dtype=torch.bool)

    @property
    def current_choice(self) -> torch.Tensor:
        """The bool mask of active channels."""
        return self.mask.clone()

    @current_choice.setter
    def current_choice(self, choice: torch.Tensor) -> None:
        choice = torch.as_tensor(choice)
        if choice.dtype != torch.bool or choice.shape != (self.num_channels,):
            raise ValueError(
                f'SimpleMutableChannel: a choice must be a bool mask of shape '
                f'({self.num_channels},), but got dtype {choice.dtype} and '
                f'shape {tuple(choice.shape)}')
        if not bool(choice.any()):
            raise ValueError('SimpleMutableChannel: a choice must keep at '
                             'least one channel, but the mask is all False')
        self.mask.copy_(choice.to(self.mask.device))
        self._changed()

    @property
    def current_mask(self) -> torch.Tensor:
        return self.mask


@MODELS.register_module()
class SequentialMutableChannel(PrefixChannels, MutableChannel):
    """Keeps the first channels active: the choice is a count or a ratio.

    ``SquentialMutableChannel``, the original MMRazor's spelling, is an
    alias (registered too: the original's configs name it).

    Args:
        num_channels (int): Number of channels of the full layer.
        choice_mode (str): ``'number'`` (choices are channel counts) or
            ``'ratio'`` (fractions of ``num_channels``). Defaults to
            ``'number'``.
    """

    def __init__(self, num_channels: int, choice_mode: str = 'number') -> None:
        super().__init__(num_channels)
        check_choice_mode(self, choice_mode)
        self.choice_mode = choice_mode
        self._num_active = num_channels

    @property
    def current_choice(self) -> Union[int, float]:
        """The number (or ratio) of active channels."""
        if self.choice_mode == 'ratio':
            return self._num_active / self.num_channels
        return self._num_active

    @current_choice.setter
    def current_choice(self, choice: Union[int, float]) -> None:
        self._num_active = choice_to_channels(choice, self.num_channels,
                                              self.choice_mode,
                                              type(self).__name__)
        self._changed()



# the original MMRazor's spelling, which its configs use
SquentialMutableChannel = SequentialMutableChannel
MODELS.register_module(
    name='SquentialMutableChannel', module=SequentialMutableChannel)
