# Copyright (c) OpenMMLab. All rights reserved.
"""How a channel mask becomes an index that slices weights cheaply."""
from typing import Optional, Union

import torch

ChannelIndex = Optional[Union[slice, torch.Tensor]]


def prefix_index(num_active: int, num_channels: int) -> ChannelIndex:
    """Index of the first ``num_active`` of ``num_channels`` channels.

    Returns ``None`` when every channel is active (nothing to slice) and a
    ``slice`` otherwise, so that weights are sliced as views, not copied.
    """
    if num_active == num_channels:
        return None
    return slice(0, num_active)


def mask_to_index(mask: torch.Tensor) -> ChannelIndex:
    """The cheapest index selecting the ``True`` entries of ``mask``.

    ``None`` when all are selected, a ``slice`` when they are a prefix, else
    a ``LongTensor`` of positions.
    """
    num = int(mask.sum())
    if num == mask.numel():
        return None
    if num > 0 and bool(mask[:num].all()):
        return slice(0, num)
    return torch.nonzero(mask, as_tuple=False).flatten()


def select(tensor: torch.Tensor, index: ChannelIndex,
           dim: int = 0) -> torch.Tensor:
    """Select ``index`` along ``dim`` of ``tensor`` (a view for slices)."""
    if index is None:
        return tensor
    if isinstance(index, slice):
        return tensor.narrow(dim, index.start, index.stop - index.start)
    return tensor.index_select(dim, index.to(tensor.device))


def num_selected(index: ChannelIndex, num_channels: int) -> int:
    """How many of ``num_channels`` channels ``index`` selects."""
    if index is None:
        return num_channels
    if isinstance(index, slice):
        return index.stop - index.start
    return int(index.numel())


class PrefixChannels:
    """The channel contract of a mutable whose active channels are its
    first ``_num_active`` of ``num_channels`` (sequential and one-shot
    channel mutables)."""

    num_channels: int
    _num_active: int

    @property
    def activated_channels(self) -> int:
        """Number of active channels."""
        return self._num_active

    @property
    def current_mask(self) -> torch.Tensor:
        """Bool mask: the first ``activated_channels`` channels."""
        mask = torch.zeros(self.num_channels, dtype=torch.bool)
        mask[:self._num_active] = True
        return mask

    @property
    def activated_index(self) -> ChannelIndex:
        """``None`` at full width, else ``slice(0, activated_channels)``."""
        return prefix_index(self._num_active, self.num_channels)
