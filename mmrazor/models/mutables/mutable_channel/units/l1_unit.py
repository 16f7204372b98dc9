# Copyright (c) OpenMMLab. All rights reserved.
"""A unit that keeps the channels with the largest L1 norm."""
from typing import List

import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from ..mutable_channels import SimpleMutableChannel
from .sequential_units import Choice, SequentialMutableChannelUnit


@MODELS.register_module()
class L1MutableChannelUnit(SequentialMutableChannelUnit):
    """Keeps the ``k`` channels whose filters have the largest L1 norm.

    The importance of a channel is the L1 norm of the weights producing it,
    summed over the unit's output layers that have weights (convolutions,
    linear layers); a choice sets ``k`` as in
    :class:`SequentialMutableChannelUnit`. Li et al., "Pruning Filters for
    Efficient ConvNets", ICLR 2017 (https://arxiv.org/abs/1608.08710).

    Args:
        num_channels (int): Number of channels of the unit.
        choice_mode (str): ``'number'`` or ``'ratio'``. Defaults to
            ``'ratio'``.
        divisor (int): Counts are multiples of it. Defaults to 1.
        min_value (int): Smallest count. Defaults to 1.
        min_ratio (float): See :class:`SequentialMutableChannelUnit`.
    """

    def __init__(self,
                 num_channels: int,
                 choice_mode: str = 'ratio',
                 divisor: int = 1,
                 min_value: int = 1,
                 min_ratio: float = 0.9,
                 **kwargs) -> None:
        super().__init__(num_channels, choice_mode, divisor, min_value,
                         min_ratio, **kwargs)
        self.__dict__['_weighted'] = []

    def _build_mutable_channel(self) -> nn.Module:
        return SimpleMutableChannel(self.num_channels)

    def prepare_for_pruning(self, model: nn.Module) -> None:
        super().prepare_for_pruning(model)
        weighted: List = []
        for channel in self.output_related:
            module = model.get_submodule(channel.name)
            weight = getattr(module, 'weight', None)
            if isinstance(module, (nn.Conv2d, nn.Linear)) and \
                    weight is not None and not getattr(
                        module, 'is_depthwise', False):
                weighted.append((module, channel.start, channel.end))
        self.__dict__['_weighted'] = weighted

    def importance(self) -> torch.Tensor:
        """L1 norm per channel (zeros when no layer has weights)."""
        score = torch.zeros(self.num_channels)
        for module, start, end in self._weighted:
            weight = module.weight.detach()[start:end]
            score += weight.abs().flatten(1).sum(1).cpu()
        return score

    def _mask_for(self, number: int) -> torch.Tensor:
        mask = torch.zeros(self.num_channels, dtype=torch.bool)
        score = self.importance()
        if number == self.num_channels or not bool(score.any()):
            mask[:number] = True
        else:
            mask[score.topk(number).indices] = True
        return mask

    @property
    def current_choice(self) -> Choice:
        return self._choice

    @current_choice.setter
    def current_choice(self, choice: Choice) -> None:
        number = self.choice_to_number(choice)
        if self.is_fixed and choice != self._choice:
            raise AttributeError(f'{self._describe()} is fixed')
        self._choice = choice
        self.mutable_channel.current_choice = self._mask_for(number)
