# Copyright (c) OpenMMLab. All rights reserved.
"""The candidate ops of the DARTS search space.

Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019
(https://arxiv.org/abs/1806.09055). Every op maps ``in_channels`` to
``out_channels`` at ``stride`` 1 or 2, in the ReLU-conv-BN order of the
paper. Module names follow the original MMRazor's, so its checkpoints load.
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.drop import drop_path
from torch import Tensor

from mmrazor.registry import MODELS

from .base import BaseOP

InitCfg = Optional[Union[Dict, List[Dict]]]


class _DropPathMixin:
    """Drop path on the op's output (training only), as the original's
    ``use_drop_path`` did with rate 0.1."""

    def _init_drop_path(self, use_drop_path: bool,
                        drop_path_rate: float) -> None:
        if not 0 <= drop_path_rate < 1:
            raise ValueError(f'{type(self).__name__}: `drop_path_rate` must '
                             f'be in [0, 1), but got {drop_path_rate!r}')
        self.drop_path_rate = drop_path_rate if use_drop_path else 0.

    def _drop_path(self, x: Tensor) -> Tensor:
        if self.drop_path_rate > 0 and self.training:
            return drop_path(x, self.drop_path_rate, True)
        return x


def _check_kernel(owner: str, kernel_size: int) -> None:
    if kernel_size not in (3, 5):
        raise ValueError(f'{owner}: `kernel_size` must be 3 or 5, but got '
                         f'{kernel_size!r}')


@MODELS.register_module()
class DartsPoolBN(_DropPathMixin, BaseOP):
    """3x3 max or average pooling followed by BN.

    Args:
        in_channels (int): Input channels (equal to ``out_channels``).
        out_channels (int): Output channels.
        stride (int): 1 or 2. Defaults to 1.
        pool_type (str): ``'max'`` or ``'avg'`` (which does not count the
            padding). Defaults to ``'max'``.
        kernel_size (int): Pooling window. Defaults to 3.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        use_drop_path (bool): Whether to drop the output path in training.
            Defaults to False.
        drop_path_rate (float): Drop-path probability. Defaults to 0.1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 pool_type: str = 'max',
                 kernel_size: int = 3,
                 norm_cfg: Dict = dict(type='BN'),
                 use_drop_path: bool = False,
                 drop_path_rate: float = 0.1,
                 init_cfg: InitCfg = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg)
        if pool_type == 'max':
            self.pool = nn.MaxPool2d(kernel_size, stride, kernel_size // 2)
        elif pool_type == 'avg':
            self.pool = nn.AvgPool2d(
                kernel_size, stride, kernel_size // 2, count_include_pad=False)
        else:
            raise ValueError(f"DartsPoolBN: `pool_type` must be 'max' or "
                             f"'avg', but got {pool_type!r}")
        self.bn = build_norm_layer(norm_cfg, out_channels)[1]
        self._init_drop_path(use_drop_path, drop_path_rate)

    def forward(self, x: Tensor) -> Tensor:
        return self._drop_path(self.bn(self.pool(x)))


@MODELS.register_module()
class DartsDilConv(_DropPathMixin, BaseOP):
    """ReLU, dilated (2) depthwise conv, pointwise conv, BN.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): 1 or 2. Defaults to 1.
        kernel_size (int): 3 or 5. Defaults to 3.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        use_drop_path (bool): Whether to drop the output path in training.
            Defaults to False.
        drop_path_rate (float): Drop-path probability. Defaults to 0.1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 kernel_size: int = 3,
                 norm_cfg: Dict = dict(type='BN'),
                 use_drop_path: bool = False,
                 drop_path_rate: float = 0.1,
                 init_cfg: InitCfg = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg)
        _check_kernel('DartsDilConv', kernel_size)
        self.conv1 = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(
                in_channels,
                in_channels,
                kernel_size,
                stride,
                padding=kernel_size // 2 * 2,
                dilation=2,
                groups=in_channels,
                bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])
        self._init_drop_path(use_drop_path, drop_path_rate)

    def forward(self, x: Tensor) -> Tensor:
        return self._drop_path(self.conv1(x))


@MODELS.register_module()
class DartsSepConv(_DropPathMixin, BaseOP):
    """Two stacked (ReLU, depthwise conv, pointwise conv, BN); the first
    carries the stride.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): 1 or 2. Defaults to 1.
        kernel_size (int): 3 or 5. Defaults to 3.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        use_drop_path (bool): Whether to drop the output path in training.
            Defaults to False.
        drop_path_rate (float): Drop-path probability. Defaults to 0.1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 kernel_size: int = 3,
                 norm_cfg: Dict = dict(type='BN'),
                 use_drop_path: bool = False,
                 drop_path_rate: float = 0.1,
                 init_cfg: InitCfg = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg)
        _check_kernel('DartsSepConv', kernel_size)
        pad = kernel_size // 2
        self.conv1 = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(in_channels, in_channels, kernel_size, stride, pad,
                      groups=in_channels, bias=False),
            nn.Conv2d(in_channels, in_channels, 1, bias=False),
            build_norm_layer(norm_cfg, in_channels)[1])
        self.conv2 = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(in_channels, in_channels, kernel_size, 1, pad,
                      groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])
        self._init_drop_path(use_drop_path, drop_path_rate)

    def forward(self, x: Tensor) -> Tensor:
        return self._drop_path(self.conv2(self.conv1(x)))


@MODELS.register_module()
class DartsSkipConnect(_DropPathMixin, BaseOP):
    """Identity at stride 1; at stride 2 a factorized reduce: ReLU, two
    1x1 stride-2 convs on offset grids, concatenated, BN.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (even at stride 2).
        stride (int): 1 or 2. Defaults to 1.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        use_drop_path (bool): Whether to drop the reduced path in training
            (never the identity). Defaults to False.
        drop_path_rate (float): Drop-path probability. Defaults to 0.1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 norm_cfg: Dict = dict(type='BN'),
                 use_drop_path: bool = False,
                 drop_path_rate: float = 0.1,
                 init_cfg: InitCfg = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg)
        if stride == 1 and in_channels != out_channels:
            raise ValueError(
                'DartsSkipConnect: at stride 1 it is the identity, so '
                f'in_channels ({in_channels}) must equal out_channels '
                f'({out_channels})')
        if stride > 1:
            if out_channels % 2:
                raise ValueError('DartsSkipConnect: at stride 2 '
                                 '`out_channels` must be even, but got '
                                 f'{out_channels}')
            self.relu = nn.ReLU()
            self.conv1 = nn.Conv2d(
                in_channels, out_channels // 2, 1, stride=2, bias=False)
            self.conv2 = nn.Conv2d(
                in_channels, out_channels // 2, 1, stride=2, bias=False)
            self.bn = build_norm_layer(norm_cfg, out_channels)[1]
        self._init_drop_path(use_drop_path, drop_path_rate)

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            return x
        x = self.relu(x)
        out = torch.cat([self.conv1(x), self.conv2(x[:, :, 1:, 1:])], dim=1)
        return self._drop_path(self.bn(out))


@MODELS.register_module()
class DartsZero(BaseOP):
    """The ``none`` op: zeros of the output shape (it has no parameters).

    Args:
        in_channels (int): Input channels (equal to ``out_channels``).
        out_channels (int): Output channels.
        stride (int): 1 or 2. Defaults to 1.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 init_cfg: InitCfg = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg)

    def forward(self, x: Tensor) -> Tensor:
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return x.mul(0.)
