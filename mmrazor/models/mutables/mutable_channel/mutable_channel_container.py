# Copyright (c) OpenMMLab. All rights reserved.
"""The channels of one layer side, assembled from several mutables."""
from typing import List, Tuple

import torch
import torch.nn as nn

from ..choice_epoch import bump_choice_epoch
from ._index import ChannelIndex, mask_to_index


class MutableChannelContainer(nn.Module):
    """Collects the mutables that own ranges of a layer's channels.

    A convolution that consumes a concatenation of two branches has its
    input channels owned by two channel units: each registers its mutable
    for its range. The container's mask is the ranges' masks put end to end;
    channels no mutable owns stay active. ``expand_ratio`` repeats each mask
    entry, for a linear layer that reads a flattened ``C x H x W`` tensor.

    Args:
        num_channels (int): Number of channels of the layer side.
    """

    def __init__(self, num_channels: int) -> None:
        super().__init__()
        self.num_channels = num_channels
        self._ranges: List[Tuple[int, int, int]] = []
        self.mutables = nn.ModuleList()
        self._cache: Tuple[tuple, ChannelIndex, int] = ((), None,
                                                        num_channels)

    def register_mutable(self, mutable: nn.Module, start: int, end: int,
                         expand_ratio: int = 1) -> None:
        """Let ``mutable`` own channels ``[start, end)`` of this side.

        Args:
            mutable (nn.Module): A channel mutable with
                ``num_channels * expand_ratio == end - start``.
            start (int): First channel (in the layer's own numbering).
            end (int): One past the last channel.
            expand_ratio (int): Layer channels per mutable channel.
                Defaults to 1.
        """
        if not 0 <= start < end <= self.num_channels:
            raise ValueError(
                f'MutableChannelContainer: range [{start}, {end}) is outside '
                f'the layer\'s {self.num_channels} channels')
        if mutable.num_channels * expand_ratio != end - start:
            raise ValueError(
                f'MutableChannelContainer: a mutable of '
                f'{mutable.num_channels} channels x expand_ratio '
                f'{expand_ratio} cannot own range [{start}, {end})')
        for s, e, _ in self._ranges:
            if start < e and s < end:
                raise ValueError(
                    f'MutableChannelContainer: range [{start}, {end}) '
                    f'overlaps the registered range [{s}, {e})')
        self._ranges.append((start, end, expand_ratio))
        self.mutables.append(mutable)
        self._cache = ((), None, self.num_channels)
        bump_choice_epoch()

    def _versions(self) -> tuple:
        return tuple(getattr(m, 'version', None) for m in self.mutables)

    @property
    def current_mask(self) -> torch.Tensor:
        """Bool mask of the active channels of the layer side."""
        mask = torch.ones(self.num_channels, dtype=torch.bool)
        for (start, end, ratio), mutable in zip(self._ranges, self.mutables):
            sub = mutable.current_mask
            if ratio > 1:
                sub = sub.repeat_interleave(ratio)
            mask[start:end] = sub
        return mask

    def _refresh(self) -> None:
        versions = self._versions()
        if versions != self._cache[0] or not versions or None in versions:
            mask = self.current_mask
            self._cache = (versions, mask_to_index(mask), int(mask.sum()))

    @property
    def activated_index(self) -> ChannelIndex:
        """Index of the active channels, cached until a mutable changes."""
        self._refresh()
        return self._cache[1]

    @property
    def activated_channels(self) -> int:
        """Number of active channels."""
        self._refresh()
        return self._cache[2]

    def extra_repr(self) -> str:
        return f'num_channels={self.num_channels}, ranges={self._ranges}'
