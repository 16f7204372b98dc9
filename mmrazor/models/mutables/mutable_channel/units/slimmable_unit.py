# Copyright (c) OpenMMLab. All rights reserved.
"""The unit of slimmable networks: given widths, switchable batch norms."""
from typing import Any, Dict, List, Optional

import torch.nn as nn

from mmrazor.registry import MODELS

from .sequential_units import Choice, OneShotMutableChannelUnit


@MODELS.register_module()
class SlimmableChannelUnit(OneShotMutableChannelUnit):
    """A unit trained at a few fixed widths, each with its own batch norms.

    Its ``candidate_choices`` are the widths the retrained subnets give it
    (channel counts by default). Preparing it replaces the batch norms of
    its output layers by :class:`SwitchableBatchNorm2d` with one
    ``nn.BatchNorm2d`` per width (Yu et al., "Slimmable Neural Networks",
    ICLR 2019).

    Args:
        num_channels (int): Number of channels of the unit.
        candidate_choices (list): Widths. Defaults to all channels.
        choice_mode (str): Defaults to ``'number'``.
        divisor (int): Counts are multiples of it. Defaults to 1.
        min_value (int): Smallest count. Defaults to 1.
        min_ratio (float): See ``SequentialMutableChannelUnit``.
        switch_choices (list, optional): The choice of each subnet of the
            slimmable network, in order (repeats allowed): each subnet then
            gets private batch norms, also where it shares this unit's width
            with another subnet (see :class:`SwitchableBatchNorm2d`).
            Defaults to None: one batch norm per width, as the original.
    """

    def __init__(self,
                 num_channels: int,
                 candidate_choices: List[Choice] = None,
                 choice_mode: str = 'number',
                 divisor: int = 1,
                 min_value: int = 1,
                 min_ratio: float = 0.9,
                 switch_choices: Optional[List[Choice]] = None,
                 **kwargs) -> None:
        if candidate_choices is None:
            candidate_choices = [num_channels] if choice_mode == 'number' \
                else [1.0]
        super().__init__(num_channels, candidate_choices, choice_mode,
                         divisor, min_value, min_ratio, **kwargs)
        for choice in switch_choices or ():
            self.check_choice(choice)
        self.switch_choices = (None if switch_choices is None else
                               list(switch_choices))

    @property
    def init_args(self) -> Dict[str, Any]:
        args = super().init_args
        if self.switch_choices is not None:
            args['switch_choices'] = list(self.switch_choices)
        return args

    def prepare_for_pruning(self, model: nn.Module) -> None:
        """Switch the output batch norms, then register the mutable."""
        from mmrazor.models.architectures.dynamic_ops import (
            DynamicBatchNorm2d,
            SwitchableBatchNorm2d,
        )
        widths = [self.choice_to_number(c) for c in self.candidate_choices]
        for channel in self.output_related:
            module = model.get_submodule(channel.name)
            if not isinstance(module, DynamicBatchNorm2d) or \
                    channel.start != 0 or \
                    channel.end != module.num_features:
                # a norm shared with other units (after a concat) keeps
                # one set of statistics
                continue
            switches = None if self.switch_choices is None else [
                self.choice_to_number(c) for c in self.switch_choices]
            switchable = SwitchableBatchNorm2d.convert_from(
                module, widths, switches)
            switchable.mutable_attrs = module.mutable_attrs
            switchable.train(module.training)
            parent, _, attr = channel.name.rpartition('.')
            setattr(model.get_submodule(parent), attr, switchable)
        super().prepare_for_pruning(model)
