# Copyright (c) OpenMMLab. All rights reserved.
"""Switchable batch normalisation: private statistics for each width."""
import copy
from typing import Sequence, Tuple

import torch
import torch.nn as nn

from mmrazor.models.mutables.mutable_channel import num_selected
from mmrazor.registry import MODELS

from ._mixin import DynamicOpMixin
from .dynamic_norm import _feature_index


@MODELS.register_module()
class SwitchableBatchNorm2d(nn.Module, DynamicOpMixin):
    """One ``nn.BatchNorm2d`` per width, picked by the active width.

    Slimmable networks share convolution weights between widths but not
    normalisation: each width has its own statistics and affine parameters
    (Yu et al., "Slimmable Neural Networks", ICLR 2019). The active width
    comes from the channel mutable registered for ``num_features``,
    ``in_channels`` or ``out_channels`` and must keep the first channels.

    Args:
        num_features (int): Channels of the full layer.
        candidate_num_features (Sequence[int]): The widths that have a
            batch norm.
        eps, momentum, affine, track_running_stats: As in
            ``nn.BatchNorm2d``.
    """

    accepted_mutable_attrs: Tuple[str, ...] = ('num_features', 'in_channels',
                                               'out_channels')

    def __init__(self,
                 num_features: int,
                 candidate_num_features: Sequence[int],
                 eps: float = 1e-5,
                 momentum: float = 0.1,
                 affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        widths = sorted(set(int(n) for n in candidate_num_features))
        if not widths or widths[0] < 1 or widths[-1] > num_features:
            raise ValueError(
                'SwitchableBatchNorm2d: candidate_num_features must be in '
                f'[1, {num_features}], got {list(candidate_num_features)}')
        self.num_features = num_features
        self.candidate_bn = nn.ModuleDict({
            str(n): nn.BatchNorm2d(n, eps, momentum, affine,
                                   track_running_stats)
            for n in widths
        })
        self._init_mutable_attrs()

    def _full_channels(self, attr: str) -> int:
        return self.num_features

    @classmethod
    def convert_from(cls, module: nn.BatchNorm2d,
                     candidate_num_features: Sequence[int] = ()
                     ) -> 'SwitchableBatchNorm2d':
        """Start every width from the first channels of ``module``."""
        new = cls(module.num_features, candidate_num_features or
                  [module.num_features], module.eps, module.momentum,
                  module.affine, module.track_running_stats)
        state = {k: v for k, v in module.state_dict().items()
                 if not k.startswith('mutable_attrs.')}
        for width, bn in new.candidate_bn.items():
            n = int(width)
            bn.load_state_dict({
                k: v if k == 'num_batches_tracked' else v[:n]
                for k, v in state.items()
            })
        return new.to(next(iter(state.values())).device)

    def active_bn(self) -> nn.BatchNorm2d:
        """The batch norm of the active width."""
        index = _feature_index(self)
        if index is not None and not isinstance(index, slice):
            raise ValueError('SwitchableBatchNorm2d needs the first channels'
                             ' active; got a mask of other channels')
        width = str(num_selected(index, self.num_features))
        if width not in self.candidate_bn:
            raise ValueError(
                f'SwitchableBatchNorm2d has no batch norm for {width} '
                f'channels; its widths are {list(self.candidate_bn)}')
        return self.candidate_bn[width]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.active_bn()(x)

    def to_static_op(self) -> nn.BatchNorm2d:
        """A copy of the active width's batch norm."""
        return copy.deepcopy(self.active_bn())
