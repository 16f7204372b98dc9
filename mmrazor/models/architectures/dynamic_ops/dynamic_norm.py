# Copyright (c) OpenMMLab. All rights reserved.
"""Normalisation layers with elastic features."""
from typing import Tuple, Type

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcls.models.utils.norm import LayerNorm2d
from mmengine.model.utils import _BatchNormXd

from mmrazor.models.mutables.mutable_channel import ChannelIndex, select
from mmrazor.registry import MODELS

from ._mixin import DynamicOpMixin

_FEATURE_ATTRS = ('num_features', 'in_channels', 'out_channels')


def _feature_index(op: DynamicOpMixin) -> ChannelIndex:
    """One mask drives a norm layer; the first registered attribute wins."""
    modules = op.mutable_attrs._modules
    for attr in ('out_channels', 'num_features', 'in_channels'):
        mutable = modules.get(attr)
        if mutable is not None:
            return mutable.activated_index
    return None


class _DynamicBatchNormMixin(DynamicOpMixin):
    """Forward and export shared by the dynamic batch norms."""

    accepted_mutable_attrs: Tuple[str, ...] = _FEATURE_ATTRS
    static_type: Type[nn.modules.batchnorm._BatchNorm]

    def _full_channels(self, attr: str) -> int:
        return self.num_features

    @classmethod
    def convert_from(cls, module: nn.modules.batchnorm._BatchNorm):
        """Build from a static batch norm of the same dimension."""
        new = cls(module.num_features, module.eps, module.momentum,
                  module.affine, module.track_running_stats)
        new.load_state_dict(module.state_dict())
        return new.to(next(iter(module.state_dict().values())).device)

    def _eval_params(self) -> tuple:
        index = _feature_index(self)
        if index is None:
            return None
        return tuple(None if t is None else select(t, index).contiguous()
                     for t in (self.running_mean, self.running_var,
                               self.weight, self.bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._modules['mutable_attrs']._modules:
            return super().forward(x)
        buffers = self._buffers
        if not self.training and buffers['running_mean'] is not None:
            params = self.cached_when_no_grad(
                [buffers['running_mean'], buffers['running_var'],
                 self._parameters['weight'], self._parameters['bias']],
                self._eval_params)
            if params is None:
                return super().forward(x)
            self._check_input_dim(x)
            return F.batch_norm(x, params[0], params[1], params[2],
                                params[3], False, 0.0, self.eps)
        index = _feature_index(self)
        if index is None:
            return super().forward(x)
        self._check_input_dim(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or self.running_mean is None
        mean = var = None
        if self.running_mean is not None and \
                (not self.training or self.track_running_stats):
            mean = select(self.running_mean, index)
            var = select(self.running_var, index)
        weight = bias = None
        if self.affine:
            weight = select(self.weight, index)
            bias = select(self.bias, index)
        out = F.batch_norm(x, mean, var, weight, bias, use_batch_stats,
                           factor, self.eps)
        if isinstance(index, torch.Tensor) and mean is not None and \
                self.training:
            # index_select copied the statistics: write the update back.
            self.running_mean[index] = mean
            self.running_var[index] = var
        return out

    def to_static_op(self) -> nn.Module:
        """A plain batch norm with the active features."""
        index = _feature_index(self)
        num = self.num_features if index is None else \
            select(self.running_var if self.running_var is not None
                   else self.weight, index).numel()
        static = self.static_type(num, self.eps, self.momentum, self.affine,
                                  self.track_running_stats)
        state = {
            key: value if key == 'num_batches_tracked' else select(
                value, index)
            for key, value in self.state_dict().items()
            if not key.startswith('mutable_attrs.')
        }
        static.load_state_dict(state)
        return static.to(next(iter(state.values())).device) if state \
            else static


@MODELS.register_module()
class DynamicBatchNorm1d(_DynamicBatchNormMixin, nn.BatchNorm1d):
    """A ``nn.BatchNorm1d`` with elastic features (sliced statistics).

    Mutable attributes: ``num_features``, ``in_channels`` or
    ``out_channels`` (any one: they name the same features).
    """

    static_type = nn.BatchNorm1d

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_mutable_attrs()


@MODELS.register_module()
class DynamicBatchNorm2d(_DynamicBatchNormMixin, nn.BatchNorm2d):
    """A ``nn.BatchNorm2d`` with elastic features (sliced statistics).

    Mutable attributes: ``num_features``, ``in_channels`` or
    ``out_channels`` (any one: they name the same features). In training
    the running statistics of the active features are updated in place.
    """

    static_type = nn.BatchNorm2d

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_mutable_attrs()


@MODELS.register_module()
class DynamicBatchNorm3d(_DynamicBatchNormMixin, nn.BatchNorm3d):
    """A ``nn.BatchNorm3d`` with elastic features (sliced statistics).

    Mutable attributes: ``num_features``, ``in_channels`` or
    ``out_channels``.
    """

    static_type = nn.BatchNorm3d

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_mutable_attrs()


@MODELS.register_module()
class DynamicBatchNormXd(_DynamicBatchNormMixin, _BatchNormXd):
    """mmengine's ``_BatchNormXd`` (what ``revert_sync_batchnorm`` makes of
    a ``SyncBatchNorm``: any input dimension) with elastic features.

    Mutable attributes: ``num_features``, ``in_channels`` or
    ``out_channels``.
    """

    static_type = _BatchNormXd

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_mutable_attrs()


@MODELS.register_module()
class DynamicSyncBatchNorm(_DynamicBatchNormMixin, nn.SyncBatchNorm):
    """A ``nn.SyncBatchNorm`` with elastic features: in distributed
    training the batch statistics of the active features are synchronised
    over the process group (torch's sync kernel, so GPU inputs only, as
    ``nn.SyncBatchNorm``); otherwise it computes what
    :class:`DynamicBatchNorm2d` does.

    Mutable attributes: ``num_features``, ``in_channels`` or
    ``out_channels``.
    """

    static_type = nn.SyncBatchNorm

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_mutable_attrs()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = _feature_index(self) if \
            self._modules['mutable_attrs']._modules else None
        if index is None or not self._syncs():
            # full width (SyncBatchNorm itself), or no synchronisation
            return super().forward(x)
        if x.device.type == 'cpu':
            raise ValueError('DynamicSyncBatchNorm synchronises GPU inputs '
                             'only (as nn.SyncBatchNorm); got a CPU tensor')
        self._check_input_dim(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        mean = var = None
        if self.track_running_stats and self.running_mean is not None:
            mean = select(self.running_mean, index)
            var = select(self.running_var, index)
        weight = select(self.weight, index) if self.affine else None
        bias = select(self.bias, index) if self.affine else None
        group = self.process_group or torch.distributed.group.WORLD
        from torch.nn.modules._functions import SyncBatchNorm as _SyncBN
        out = _SyncBN.apply(x, weight, bias, mean, var, self.eps, factor,
                            group, torch.distributed.get_world_size(group))
        if isinstance(index, torch.Tensor) and mean is not None:
            # index_select copied the statistics: write the update back.
            self.running_mean[index] = mean
            self.running_var[index] = var
        return out

    def _syncs(self) -> bool:
        if not (self.training and torch.distributed.is_available()
                and torch.distributed.is_initialized()):
            return False
        group = self.process_group or torch.distributed.group.WORLD
        return torch.distributed.get_world_size(group) > 1

    @classmethod
    def convert_from(cls, module: nn.modules.batchnorm._BatchNorm):
        """Build from a ``SyncBatchNorm`` (or any batch norm), keeping its
        process group."""
        new = super().convert_from(module)
        new.process_group = getattr(module, 'process_group', None)
        return new

    def to_static_op(self) -> nn.Module:
        """A ``nn.SyncBatchNorm`` with the active features and the same
        process group."""
        static = super().to_static_op()
        static.process_group = self.process_group
        return static


# the original MMRazor's name of the shared base of dynamic batch norms
DynamicBatchNormMixin = _DynamicBatchNormMixin


@MODELS.register_module()
class DynamicLayerNorm(nn.LayerNorm, DynamicOpMixin):
    """A ``nn.LayerNorm`` over the last dimension with elastic features.

    Mutable attributes: ``num_features``, ``in_channels`` or
    ``out_channels``.
    """

    accepted_mutable_attrs: Tuple[str, ...] = _FEATURE_ATTRS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if len(self.normalized_shape) != 1:
            raise ValueError(
                'DynamicLayerNorm normalises the last dimension only, got '
                f'normalized_shape={self.normalized_shape}')
        self._init_mutable_attrs()

    def _full_channels(self, attr: str) -> int:
        return self.normalized_shape[0]

    @classmethod
    def convert_from(cls, module: nn.LayerNorm) -> 'DynamicLayerNorm':
        """Build from a ``nn.LayerNorm``."""
        new = cls(module.normalized_shape, module.eps,
                  module.elementwise_affine, bias=module.bias is not None)
        new.load_state_dict(module.state_dict())
        if module.weight is not None:
            new = new.to(module.weight.device)
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = _feature_index(self)
        if index is None:
            return super().forward(x)
        weight = None if self.weight is None else select(self.weight, index)
        bias = None if self.bias is None else select(self.bias, index)
        return F.layer_norm(x, (x.shape[-1], ), weight, bias, self.eps)

    def to_static_op(self) -> nn.LayerNorm:
        """A plain ``nn.LayerNorm`` with the active features."""
        index = _feature_index(self)
        weight = None if self.weight is None else select(self.weight, index)
        bias = None if self.bias is None else select(self.bias, index)
        num = self.normalized_shape[0] if index is None else (
            index.stop - index.start if isinstance(index, slice) else
            int(index.numel()))
        static = nn.LayerNorm(num, self.eps, self.elementwise_affine,
                              bias=bias is not None)
        with torch.no_grad():
            if weight is not None:
                static.weight.copy_(weight)
            if bias is not None:
                static.bias.copy_(bias)
        return static.to(weight.device) if weight is not None else static


@MODELS.register_module()
class DynamicLayerNorm2d(DynamicLayerNorm):
    """mmcls's ``LayerNorm2d`` (a layer norm over the channels of NCHW
    maps, as in ConvNeXt) with elastic channels; exports to a
    ``LayerNorm2d``."""

    def forward(self, x: torch.Tensor,
                data_format: str = 'channel_first') -> torch.Tensor:
        if data_format == 'channel_last':
            return super().forward(x)
        x = super().forward(x.permute(0, 2, 3, 1))
        return x.permute(0, 3, 1, 2).contiguous()

    def to_static_op(self) -> nn.LayerNorm:
        """A ``LayerNorm2d`` with the active channels."""
        plain = super().to_static_op()
        static = LayerNorm2d(plain.normalized_shape[0], eps=plain.eps,
                             elementwise_affine=plain.elementwise_affine,
                             bias=plain.bias is not None)
        static.load_state_dict(plain.state_dict())
        return static.to(self.weight.device) if self.weight is not None \
            else static
