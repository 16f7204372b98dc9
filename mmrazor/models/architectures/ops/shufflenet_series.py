# Copyright (c) OpenMMLab. All rights reserved.
"""Candidate blocks of the SPOS ShuffleNetV2 search space.

Guo et al., "Single Path One-Shot Neural Architecture Search with Uniform
Sampling", ECCV 2020 (https://arxiv.org/abs/1904.00420). The space has four
choices per block: ShuffleNetV2 units with a 3x3, 5x5 or 7x7 depthwise
kernel, and an Xception-like unit with three 3x3 depthwise convolutions.
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmcls.models.utils import channel_shuffle
from mmcv.cnn import ConvModule
from torch import Tensor

from mmrazor.registry import MODELS

from .base import BaseOP


class _ShuffleUnit(BaseOP, metaclass=ABCMeta):
    """A ShuffleNetV2 unit whose main branch is given by the subclass.

    With stride 1 the input is split in two halves: one passes unchanged, the
    other goes through the main branch. With stride 2 the whole input goes
    through both a projection branch (depthwise conv + pointwise conv) and
    the main branch. The two halves are concatenated and shuffled.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int,
                 kernel_size: int = 3,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU'),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        if out_channels % 2 != 0:
            raise ValueError(f'{type(self).__name__}: `out_channels` must be '
                             f'even, but got {out_channels}')
        branch_channels = out_channels // 2
        if stride == 1 and in_channels != out_channels:
            raise ValueError(
                f'{type(self).__name__}: with stride 1, `in_channels` must '
                f'equal `out_channels`, but got {in_channels} and '
                f'{out_channels}')
        if stride == 2 and out_channels <= in_channels:
            raise ValueError(
                f'{type(self).__name__}: with stride 2, the projection branch '
                f'keeps the {in_channels} input channels, so `out_channels` '
                f'must exceed `in_channels`, but got {out_channels}')
        self.kernel_size = kernel_size
        self._cfgs = dict(
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        if stride == 2:
            self.branch_proj = nn.Sequential(
                self._dw(in_channels, kernel_size, stride),
                self._pw(in_channels, in_channels))
        main_in = in_channels if stride == 2 else branch_channels
        main_out = out_channels - (in_channels if stride == 2 else
                                   branch_channels)
        self.branch_main = nn.Sequential(
            *self._main_branch(main_in, branch_channels, main_out))

    def _dw(self, channels: int, kernel_size: int, stride: int) -> ConvModule:
        """Depthwise conv + norm, no activation."""
        cfgs = dict(self._cfgs, act_cfg=None)
        return ConvModule(
            channels,
            channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=channels,
            **cfgs)

    def _pw(self, in_channels: int, out_channels: int) -> ConvModule:
        """Pointwise conv + norm + activation."""
        return ConvModule(in_channels, out_channels, 1, **self._cfgs)

    @abstractmethod
    def _main_branch(self, in_channels: int, mid_channels: int,
                     out_channels: int) -> List[nn.Module]:
        """The layers of the main branch, from ``in_channels`` through
        ``mid_channels`` to ``out_channels``."""

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 2:
            out = torch.cat((self.branch_proj(x), self.branch_main(x)), dim=1)
        else:
            x_proj, x_main = x.chunk(2, dim=1)
            out = torch.cat((x_proj, self.branch_main(x_main)), dim=1)
        return channel_shuffle(out, 2)


@MODELS.register_module()
class ShuffleBlock(_ShuffleUnit):
    """The ShuffleNetV2 unit of SPOS: pw conv, k x k dw conv, pw conv.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output (even).
        stride (int): 1 or 2. With stride 1, ``in_channels`` must equal
            ``out_channels``.
        kernel_size (int): Depthwise kernel size: 3, 5 or 7. Defaults to 3.
        conv_cfg (dict, optional): Config of the conv layers. Defaults to
            None (``nn.Conv2d``).
        norm_cfg (dict): Config of the norm layers. Defaults to
            ``dict(type='BN')``.
        act_cfg (dict): Config of the activations. Defaults to
            ``dict(type='ReLU')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int,
                 kernel_size: int = 3,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU'),
                 init_cfg: Optional[Dict] = None) -> None:
        if kernel_size not in (3, 5, 7):
            raise ValueError('ShuffleBlock: `kernel_size` must be 3, 5 or 7, '
                             f'but got {kernel_size!r}')
        super().__init__(in_channels, out_channels, stride, kernel_size,
                         conv_cfg, norm_cfg, act_cfg, init_cfg)

    def _main_branch(self, in_channels: int, mid_channels: int,
                     out_channels: int) -> List[nn.Module]:
        return [
            self._pw(in_channels, mid_channels),
            self._dw(mid_channels, self.kernel_size, self.stride),
            self._pw(mid_channels, out_channels),
        ]


@MODELS.register_module()
class ShuffleXception(_ShuffleUnit):
    """The Xception-like unit of SPOS: three (3x3 dw conv, pw conv) pairs.

    The first depthwise conv carries the stride.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output (even).
        stride (int): 1 or 2. With stride 1, ``in_channels`` must equal
            ``out_channels``.
        conv_cfg (dict, optional): Config of the conv layers. Defaults to
            None (``nn.Conv2d``).
        norm_cfg (dict): Config of the norm layers. Defaults to
            ``dict(type='BN')``.
        act_cfg (dict): Config of the activations. Defaults to
            ``dict(type='ReLU')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU'),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, out_channels, stride, 3, conv_cfg,
                         norm_cfg, act_cfg, init_cfg)

    def _main_branch(self, in_channels: int, mid_channels: int,
                     out_channels: int) -> List[nn.Module]:
        return [
            self._dw(in_channels, 3, self.stride),
            self._pw(in_channels, mid_channels),
            self._dw(mid_channels, 3, 1),
            self._pw(mid_channels, mid_channels),
            self._dw(mid_channels, 3, 1),
            self._pw(mid_channels, out_channels),
        ]
