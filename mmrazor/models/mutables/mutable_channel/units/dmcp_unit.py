# Copyright (c) OpenMMLab. All rights reserved.
"""The channel unit of DMCP: its channels form a Markov chain of groups."""
from typing import Optional, Tuple

import torch
from torch import Tensor

from mmrazor.registry import MODELS

from .sequential_units import SequentialMutableChannelUnit


@MODELS.register_module()
class DMCPChannelUnit(SequentialMutableChannelUnit):
    """A sequential unit split into a fixed part and ``num_groups`` groups.

    DMCP (Guo et al., "DMCP: Differentiable Markov Channel Pruning for
    Neural Networks", CVPR 2020, Sec. 3.1) keeps the first ``min_channels``
    channels always and models the others as groups of ``group_size``
    channels visited in order: group ``k`` is kept only if group ``k - 1``
    is, with the transition probability ``p_k``; the marginal probability
    of keeping group ``k`` is ``p_1 ... p_k``. As in the original MMRazor,
    ``p_k = exp(-max(a_k, 0))`` for the architecture parameter ``a_k``
    (:class:`~mmrazor.models.mutators.DMCPChannelMutator` owns them and
    sets the split with :meth:`set_groups`).

    Args:
        num_channels (int): Number of channels of the unit.
        choice_mode (str): ``'number'`` or ``'ratio'``. Defaults to
            ``'number'``.
        divisor (int): Counts are multiples of it. Defaults to 1.
        min_value (int): Smallest count. Defaults to 1.
        min_ratio (float): See :class:`SequentialMutableChannelUnit`.
            Defaults to 0.5 (the original's).
    """

    def __init__(self,
                 num_channels: int,
                 choice_mode: str = 'number',
                 divisor: int = 1,
                 min_value: int = 1,
                 min_ratio: float = 0.5,
                 **kwargs) -> None:
        super().__init__(num_channels, choice_mode, divisor, min_value,
                         min_ratio, **kwargs)
        self.group_size = 0
        self.num_groups = 0
        self.min_channels = num_channels

    def set_groups(self, min_rate: float, max_rate: float,
                   rate_offset: float) -> Tuple[int, int, int]:
        """Split the channels as the original's ``pruning_cfg`` does.

        ``group_size = int(rate_offset * C / max_rate)``, ``num_groups =
        int((max_rate - min_rate) / rate_offset)``, and the rest are the
        always-kept channels; a unit too small for that keeps one group of
        each remaining channel.

        Returns:
            tuple: ``(group_size, num_groups, min_channels)``.
        """
        group_size = int(rate_offset * self.num_channels / max_rate)
        num_groups = int((max_rate - min_rate) / rate_offset + 1e-4)
        if group_size < 1 or group_size * num_groups >= self.num_channels:
            # a small unit: single channels, the first always kept
            group_size = 1
            num_groups = min(num_groups, self.num_channels - 1)
        self.group_size, self.num_groups = group_size, num_groups
        self.min_channels = self.num_channels - group_size * num_groups
        return self.group_size, self.num_groups, self.min_channels

    @staticmethod
    def transition_probs(arch_param: Tensor) -> Tensor:
        """``p_k = exp(-max(a_k, 0))``: keeping group k given k - 1."""
        return torch.exp(-torch.clamp(arch_param, min=0))

    def marginal_probs(self, arch_param: Tensor) -> Tensor:
        """``P(keep group k) = p_1 ... p_k``."""
        return torch.cumprod(self.transition_probs(arch_param), dim=0)

    def expected_channels(self, arch_param: Tensor) -> Tensor:
        """``min_channels + group_size * sum_k P(keep group k)``."""
        if self.num_groups == 0:
            return arch_param.new_tensor(float(self.min_channels))
        return self.min_channels + self.group_size * self.marginal_probs(
            arch_param).sum()

    def channel_scale(self, arch_param: Tensor,
                      num: Optional[int] = None) -> Tensor:
        """Per-channel marginal keep probabilities of the first ``num``
        channels (1 for the always-kept ones)."""
        num = self.num_channels if num is None else num
        ones = arch_param.new_ones(self.min_channels)
        if self.num_groups == 0:
            return ones[:num]
        probs = self.marginal_probs(arch_param).repeat_interleave(
            self.group_size)
        return torch.cat([ones, probs])[:num]

    def sample_markov(self, arch_param: Tensor) -> int:
        """Channels of one walk of the chain (the original's 'direct')."""
        probs = self.transition_probs(arch_param.detach())
        channels = self.min_channels
        for k in range(self.num_groups):
            if float(torch.rand(())) > float(probs[k]):
                break
            channels += self.group_size
        return channels
