# Copyright (c) OpenMMLab. All rights reserved.
"""Switchable batch normalisation: private statistics for each width."""
import copy
from typing import List, Optional, Sequence, Tuple

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

    Switches: when several subnets of a slimmable network give this layer
    the same width but differ upstream, one batch norm per width would mix
    their statistics (the original MMRazor does; retrained AutoSlim widths
    then lose most of their accuracy in eval mode). With
    ``switch_num_features`` (the width of each subnet, in order) every
    subnet gets private statistics: the first subnet of a width uses the
    width's batch norm (key ``'{n}'``, as in the original's checkpoints),
    later ones their own (``'{n}_{k}'``). ``switch`` names the active
    subnet (``SlimmableChannelMutator.set_choices`` sets it for whoever
    sets a subnet's choices); with ``switch=None``, or when the active
    width is not the switch's, the width's batch norm is used. A state
    dict without the ``'{n}_{k}'`` entries (the original's) loads them from
    ``'{n}'``.

    Args:
        num_features (int): Channels of the full layer.
        candidate_num_features (Sequence[int]): The widths that have a
            batch norm.
        eps, momentum, affine, track_running_stats: As in
            ``nn.BatchNorm2d``.
        switch_num_features (Sequence[int], optional): The width of each
            switch (subnet); each must be in ``candidate_num_features``.
            Defaults to None: one batch norm per width.
    """

    accepted_mutable_attrs: Tuple[str, ...] = ('num_features', 'in_channels',
                                               'out_channels')

    def __init__(self,
                 num_features: int,
                 candidate_num_features: Sequence[int],
                 eps: float = 1e-5,
                 momentum: float = 0.1,
                 affine: bool = True,
                 track_running_stats: bool = True,
                 switch_num_features: Optional[Sequence[int]] = None
                 ) -> None:
        super().__init__()
        widths = sorted(set(int(n) for n in candidate_num_features))
        if not widths or widths[0] < 1 or widths[-1] > num_features:
            raise ValueError(
                'SwitchableBatchNorm2d: candidate_num_features must be in '
                f'[1, {num_features}], got {list(candidate_num_features)}')
        self.num_features = num_features
        keys = [str(n) for n in widths]
        #: key of each switch's batch norm (empty: one per width)
        self.switch_keys: List[str] = []
        for n in switch_num_features or ():
            if int(n) not in widths:
                raise ValueError(
                    f'SwitchableBatchNorm2d: switch_num_features holds {n}, '
                    f'which is not one of candidate_num_features {widths}')
            seen = sum(k.split('_')[0] == str(n) for k in self.switch_keys)
            key = str(n) if seen == 0 else f'{n}_{seen}'
            self.switch_keys.append(key)
            if key not in keys:
                keys.append(key)
        #: the active switch (subnet index), or None
        self.switch: Optional[int] = None
        self.candidate_bn = nn.ModuleDict({
            key: nn.BatchNorm2d(int(key.split('_')[0]), eps, momentum, affine,
                                track_running_stats)
            for key in keys
        })
        self._init_mutable_attrs()

    def _full_channels(self, attr: str) -> int:
        return self.num_features

    @classmethod
    def convert_from(cls, module: nn.BatchNorm2d,
                     candidate_num_features: Sequence[int] = (),
                     switch_num_features: Optional[Sequence[int]] = None
                     ) -> 'SwitchableBatchNorm2d':
        """Start every width (and switch) from the first channels of
        ``module``."""
        new = cls(module.num_features, candidate_num_features or
                  [module.num_features], module.eps, module.momentum,
                  module.affine, module.track_running_stats,
                  switch_num_features)
        state = {k: v for k, v in module.state_dict().items()
                 if not k.startswith('mutable_attrs.')}
        for key, bn in new.candidate_bn.items():
            n = int(key.split('_')[0])
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
        if self.switch is not None and self.switch_keys:
            key = self.switch_keys[self.switch]
            if key.split('_')[0] == width:
                return self.candidate_bn[key]
        if width not in self.candidate_bn:
            raise ValueError(
                f'SwitchableBatchNorm2d has no batch norm for {width} '
                f'channels; its widths are '
                f'{[k for k in self.candidate_bn if "_" not in k]}')
        return self.candidate_bn[width]

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        # a state dict without a later switch's batch norm (the original
        # MMRazor's, one per width) gives it the width's
        for key in self.candidate_bn:
            if '_' not in key:
                continue
            own = f'{prefix}candidate_bn.{key}.'
            if any(k.startswith(own) for k in state_dict):
                continue
            shared = f'{prefix}candidate_bn.{key.split("_")[0]}.'
            for k in [k for k in state_dict if k.startswith(shared)]:
                state_dict[own + k[len(shared):]] = state_dict[k]
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.active_bn()(x)

    def to_static_op(self) -> nn.BatchNorm2d:
        """A copy of the active width's batch norm."""
        return copy.deepcopy(self.active_bn())
