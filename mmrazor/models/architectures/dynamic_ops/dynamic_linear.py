# Copyright (c) OpenMMLab. All rights reserved.
"""A linear layer with elastic input and output features."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.models.mutables.mutable_channel import select
from mmrazor.registry import MODELS

from ._mixin import DynamicOpMixin


@MODELS.register_module()
class DynamicLinear(nn.Linear, DynamicOpMixin):
    """A ``nn.Linear`` whose input and output features can shrink.

    Mutable attributes: ``in_channels`` (input features) and
    ``out_channels`` (output features), channel mutables.

    Arguments are those of ``nn.Linear``.
    """

    accepted_mutable_attrs: Tuple[str, ...] = ('in_channels', 'out_channels')

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_mutable_attrs()

    def _full_channels(self, attr: str) -> int:
        return self.in_features if attr == 'in_channels' else \
            self.out_features

    @classmethod
    def convert_from(cls, module: nn.Linear) -> 'DynamicLinear':
        """Build from ``module`` (an ``nn.Linear``)."""
        new = cls(module.in_features, module.out_features,
                  module.bias is not None, device='meta')
        new = new.to_empty(device=module.weight.device)
        new.load_state_dict(module.state_dict())
        return new

    def active_params(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Weight and bias of the current sub-shape."""
        out_idx = self.channel_index('out_channels')
        weight = select(select(self.weight, out_idx, 0),
                        self.channel_index('in_channels'), 1)
        bias = None if self.bias is None else select(self.bias, out_idx, 0)
        return weight, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.mutable_attrs._modules:
            return F.linear(x, self.weight, self.bias)
        weight, bias = self.cached_when_no_grad(
            [self.weight, self.bias], lambda: tuple(
                None if t is None else t.contiguous()
                for t in self.active_params()))
        return F.linear(x, weight, bias)

    def to_static_op(self) -> nn.Linear:
        """A plain ``nn.Linear`` of the current sub-shape."""
        weight, bias = self.active_params()
        linear = nn.Linear(weight.shape[1], weight.shape[0], bias is not None,
                           device='meta').to_empty(device=self.weight.device)
        with torch.no_grad():
            linear.weight.copy_(weight)
            if bias is not None:
                linear.bias.copy_(bias)
        return linear
