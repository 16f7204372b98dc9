# Copyright (c) OpenMMLab. All rights reserved.
"""Dynamic 2d convolutions: elastic channels, and kernel size."""
import math
from typing import Any, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks.conv2d_adaptive_padding import Conv2dAdaptivePadding

from mmrazor.models.mutables.mutable_channel import num_selected, select
from mmrazor.registry import MODELS

from ._mixin import DynamicOpMixin


def _same_padding(kernel_size: int, dilation: int) -> int:
    return dilation * (kernel_size - 1) // 2


@MODELS.register_module()
class DynamicConv2d(nn.Conv2d, DynamicOpMixin):
    """A ``nn.Conv2d`` whose input and output channels can shrink.

    Mutable attributes: ``in_channels`` and ``out_channels`` (channel
    mutables). Depthwise convolutions (``groups == in_channels ==
    out_channels``) follow one mask for both sides; grouped convolutions
    with ``1 < groups < in_channels`` keep their channels.

    Arguments are those of ``nn.Conv2d`` (``padding_mode='zeros'`` only).
    """

    accepted_mutable_attrs: Tuple[str, ...] = ('in_channels', 'out_channels')

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.padding_mode != 'zeros':
            raise ValueError(f'{type(self).__name__} supports padding_mode '
                             f'"zeros" only, got {self.padding_mode!r}')
        self._init_mutable_attrs()

    @property
    def is_depthwise(self) -> bool:
        """Whether every input channel has its own filter."""
        return self.groups > 1 and \
            self.groups == self.in_channels == self.out_channels

    def _check_mutable_attr(self, attr: str, mutable: Any) -> None:
        if attr == 'kernel_size':
            self._check_kernel_mutable(mutable)
        elif self.groups > 1 and not self.is_depthwise:
            raise ValueError(
                f'{type(self).__name__}: a grouped convolution (groups='
                f'{self.groups}, in_channels={self.in_channels}) cannot have '
                f'mutable {attr}; only groups=1 or depthwise convolutions can')

    @classmethod
    def convert_from(cls, module: nn.Conv2d) -> 'DynamicConv2d':
        """Build from ``module`` (an ``nn.Conv2d``), sharing no memory."""
        # built on the meta device: no random init to overwrite
        new = cls(module.in_channels, module.out_channels, module.kernel_size,
                  module.stride, module.padding, module.dilation,
                  module.groups, module.bias is not None,
                  module.padding_mode, device='meta')
        new = new.to_empty(device=module.weight.device)
        new.load_state_dict(module.state_dict())
        return new

    def _check_kernel_mutable(self, mutable: Any) -> None:
        name = type(self).__name__
        full = self.kernel_size[0]
        if self.kernel_size[0] != self.kernel_size[1]:
            raise ValueError(f'{name}: an elastic kernel must be square, '
                             f'got kernel_size={self.kernel_size}')
        if self.padding != (_same_padding(full, self.dilation[0]),) * 2:
            raise ValueError(
                f'{name}: an elastic kernel needs "same" padding '
                f'({_same_padding(full, self.dilation[0])}), got '
                f'padding={self.padding}')
        for k in mutable.choices:
            if not isinstance(k, int) or k % 2 == 0 or not 0 < k <= full:
                raise ValueError(
                    f'{name}: kernel_size choices must be odd ints up to '
                    f'{full}, got {mutable.choices}')

    def _active_kernel_size(self) -> int:
        mutable = self.mutable_attrs._modules.get('kernel_size')
        return self.kernel_size[0] if mutable is None else \
            mutable.current_choice

    def _active_padding(self) -> Any:
        kernel = self._active_kernel_size()
        if kernel == self.kernel_size[0]:
            return self.padding
        return _same_padding(kernel, self.dilation[0])

    def _transform_kernel(self, weight: torch.Tensor) -> torch.Tensor:
        """Turn the full kernel into the active one (kernel subclasses)."""
        return weight

    def active_params(self) -> Tuple[torch.Tensor, Any, int]:
        """Weight, bias and groups of the current sub-shape."""
        out_idx = self.channel_index('out_channels')
        weight, bias, groups = self.weight, self.bias, self.groups
        if self.is_depthwise:
            idx = out_idx if out_idx is not None else \
                self.channel_index('in_channels')
            weight = select(weight, idx, 0)
            groups = num_selected(idx, self.out_channels)
            out_idx = idx
        else:
            weight = select(select(weight, out_idx, 0),
                            self.channel_index('in_channels'), 1)
        weight = self._transform_kernel(weight)
        if bias is not None:
            bias = select(bias, out_idx, 0)
        return weight, bias, groups

    def _cache_tensors(self) -> list:
        """The tensors the inference weights are computed from."""
        params = self._parameters
        extra = [params[name] for name in self.__dict__.get(
            '_trans_matrix_names', ())]
        return [params['weight'], params['bias']] + extra

    def _dense_params(self) -> tuple:
        weight, bias, groups = self.active_params()
        return (weight.contiguous(),
                None if bias is None else bias.contiguous(), groups,
                self._active_padding())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._modules['mutable_attrs']._modules:
            return self._conv_forward(x, self.weight, self.bias)
        weight, bias, groups, padding = self.cached_when_no_grad(
            self._cache_tensors(), self._dense_params)
        return F.conv2d(x, weight, bias, self.stride, padding,
                        self.dilation, groups)

    def to_static_op(self) -> nn.Conv2d:
        """A plain ``nn.Conv2d`` of the current sub-shape."""
        weight, bias, groups = self.active_params()
        conv = nn.Conv2d(
            weight.shape[1] * groups,
            weight.shape[0],
            self._active_kernel_size(),
            stride=self.stride,
            padding=self._active_padding(),
            dilation=self.dilation,
            groups=groups,
            bias=bias is not None,
            device='meta').to_empty(device=self.weight.device)
        with torch.no_grad():
            conv.weight.copy_(weight)
            if bias is not None:
                conv.bias.copy_(bias)
        return conv


def _center_crop(weight: torch.Tensor, kernel: int) -> torch.Tensor:
    start = (weight.shape[-1] - kernel) // 2
    return weight[..., start:start + kernel, start:start + kernel]


@MODELS.register_module()
class BigNasConv2d(DynamicConv2d):
    """Elastic channels and kernel size; small kernels are centre crops.

    The kernel-size scheme of BigNAS (Yu et al., "BigNAS: Scaling Up
    Neural Architecture Search with Big Single-Stage Models", ECCV 2020):
    a ``k x k`` kernel is the centre of the full kernel. Mutable
    attributes: ``in_channels``, ``out_channels`` and ``kernel_size`` (a
    value mutable of odd sizes; the op needs "same" padding).
    """

    accepted_mutable_attrs = ('in_channels', 'out_channels', 'kernel_size')

    def _transform_kernel(self, weight: torch.Tensor) -> torch.Tensor:
        kernel = self._active_kernel_size()
        if kernel == self.kernel_size[0]:
            return weight
        return _center_crop(weight, kernel)


@MODELS.register_module()
class OFAConv2d(DynamicConv2d):
    """Elastic channels and kernel size through kernel transformations.

    The scheme of Once-for-All (Cai et al., "Once-for-All: Train One
    Network and Specialize it for Efficient Deployment", ICLR 2020): going
    from one kernel size down to the next, the centre crop is multiplied by
    a learnt ``k^2 x k^2`` matrix (identity at first), shared by all
    channels: ``w_small = reshape(crop(w_big).view(-1, k * k) @ M.T)``.
    Registering the ``kernel_size`` mutable creates the matrices, parameters
    ``trans_matrix_{big}to{small}`` (the state-dict keys of MMRazor 1.0 and,
    renamed, of the official OFA checkpoints' ``{big}to{small}_matrix``).
    """

    accepted_mutable_attrs = ('in_channels', 'out_channels', 'kernel_size')

    def _check_mutable_attr(self, attr: str, mutable: Any) -> None:
        super()._check_mutable_attr(attr, mutable)
        if attr != 'kernel_size':
            return
        for name in self.__dict__.get('_trans_matrix_names', ()):
            delattr(self, name)
        sizes: List[int] = sorted(set(mutable.choices) | {self.kernel_size[0]},
                                  reverse=True)
        names = []
        for big, small in zip(sizes[:-1], sizes[1:]):
            name = f'trans_matrix_{big}to{small}'
            self.register_parameter(
                name,
                nn.Parameter(torch.eye(small * small,
                                       device=self.weight.device)))
            names.append(name)
        self._trans_matrix_names = tuple(names)
        self._kernel_steps = list(zip(sizes[:-1], sizes[1:]))

    def trans_matrix(self, big: int, small: int) -> nn.Parameter:
        """The matrix that turns the centre ``small x small`` crop of a
        ``big x big`` kernel into the ``small x small`` kernel."""
        name = f'trans_matrix_{big}to{small}'
        if name not in self.__dict__.get('_trans_matrix_names', ()):
            raise KeyError(
                f'OFAConv2d has no matrix {name!r}; it has '
                f'{list(self.__dict__.get("_trans_matrix_names", ()))} '
                '(register a kernel_size mutable first)')
        return self._parameters[name]

    def _transform_kernel(self, weight: torch.Tensor) -> torch.Tensor:
        kernel = self._active_kernel_size()
        if kernel == self.kernel_size[0]:
            return weight
        out_c, in_c = weight.shape[:2]
        for big, small in self._kernel_steps:
            if small < kernel:
                break
            weight = _center_crop(weight, small).reshape(-1, small * small)
            weight = F.linear(weight, self.trans_matrix(big, small))
            weight = weight.reshape(out_c, in_c, small, small)
        return weight


@MODELS.register_module()
class DynamicConv2dAdaptivePadding(DynamicConv2d):
    """mmcv's ``Conv2dAdaptivePadding`` with elastic channels.

    Like its static counterpart (EfficientNet uses it), it pads the input
    so that the output covers it ("same" padding of TensorFlow), computed
    from the input size on each forward; it exports to a
    ``Conv2dAdaptivePadding``.
    """

    @classmethod
    def convert_from(cls, module: nn.Conv2d) -> 'DynamicConv2d':
        """Build from a ``Conv2dAdaptivePadding``."""
        new = cls(module.in_channels, module.out_channels, module.kernel_size,
                  module.stride, 0, module.dilation, module.groups,
                  module.bias is not None, device='meta')
        new = new.to_empty(device=module.weight.device)
        new.load_state_dict(module.state_dict())
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        img_h, img_w = x.shape[-2:]
        kernel = self._active_kernel_size()
        pads = []
        for size, stride, dilation in zip((img_h, img_w), self.stride,
                                          self.dilation):
            out = math.ceil(size / stride)
            pads.append(max((out - 1) * stride + (kernel - 1) * dilation +
                            1 - size, 0))
        pad_h, pad_w = pads
        if pad_h > 0 or pad_w > 0:
            x = F.pad(x, [
                pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2
            ])
        return super().forward(x)

    def _active_padding(self) -> Any:
        return self.padding

    def to_static_op(self) -> nn.Conv2d:
        """A ``Conv2dAdaptivePadding`` of the current sub-shape."""
        weight, bias, groups = self.active_params()
        conv = Conv2dAdaptivePadding(
            weight.shape[1] * groups, weight.shape[0],
            self._active_kernel_size(), self.stride, 0, self.dilation,
            groups, bias is not None)
        with torch.no_grad():
            conv.weight.copy_(weight)
            if bias is not None:
                conv.bias.copy_(bias)
        return conv.to(self.weight.device)
