# Copyright (c) OpenMMLab. All rights reserved.
"""Candidate blocks of the SPOS ShuffleNetV2 search space.

Guo et al., "Single Path One-Shot Neural Architecture Search with Uniform
Sampling", ECCV 2020 (https://arxiv.org/abs/1904.00420). The space has four
choices per block: ShuffleNetV2 units with a 3x3, 5x5 or 7x7 depthwise
kernel, and an Xception-like unit with three 3x3 depthwise convolutions.

Both blocks are ShuffleNetV2 units. With stride 1 the input is split in two
halves: one passes unchanged, the other goes through the main branch. With
stride 2 the whole input goes through both a projection branch (depthwise
conv + pointwise conv, keeping ``in_channels``) and the main branch (giving
the other ``out_channels - in_channels``). The two parts are concatenated
and shuffled. The blocks differ only in their main branch.
"""
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn
from mmcls.models.utils import channel_shuffle
from mmcv.cnn import ConvModule
from torch import Tensor

from mmrazor.registry import MODELS

from .base import BaseOP

ConvFactory = Callable[..., ConvModule]


def _conv_factories(conv_cfg: Optional[Dict], norm_cfg: Dict,
                    act_cfg: Dict) -> tuple:
    """Return ``dw(channels, kernel, stride)`` (conv + norm) and
    ``pw(in, out)`` (conv + norm + activation) builders."""

    def dw(channels: int, kernel_size: int, stride: int) -> ConvModule:
        return ConvModule(
            channels,
            channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=channels,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None)

    def pw(in_channels: int, out_channels: int) -> ConvModule:
        return ConvModule(
            in_channels,
            out_channels,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    return dw, pw


def _check_unit(op: BaseOP) -> None:
    """Check the channel rules of a ShuffleNetV2 unit."""
    name = type(op).__name__
    if op.out_channels % 2 != 0:
        raise ValueError(f'{name}: `out_channels` must be even, but got '
                         f'{op.out_channels}')
    if op.stride == 1 and op.in_channels != op.out_channels:
        raise ValueError(
            f'{name}: with stride 1, `in_channels` must equal '
            f'`out_channels`, but got {op.in_channels} and {op.out_channels}')
    if op.stride == 2 and op.out_channels <= op.in_channels:
        raise ValueError(
            f'{name}: with stride 2, the projection branch keeps the '
            f'{op.in_channels} input channels, so `out_channels` must exceed '
            f'`in_channels`, but got {op.out_channels}')


def _build_unit(op: BaseOP, dw: ConvFactory, pw: ConvFactory,
                main_branch: Callable[[int, int, int], List[nn.Module]],
                kernel_size: int) -> None:
    """Add ``branch_proj`` (stride 2 only) and ``branch_main`` to ``op``.

    ``main_branch(in, mid, out)`` gives the layers of the main branch.
    """
    _check_unit(op)
    half = op.out_channels // 2
    if op.stride == 2:
        op.branch_proj = nn.Sequential(
            dw(op.in_channels, kernel_size, op.stride),
            pw(op.in_channels, op.in_channels))
        main_in, main_out = op.in_channels, op.out_channels - op.in_channels
    else:
        main_in, main_out = half, op.out_channels - half
    op.branch_main = nn.Sequential(*main_branch(main_in, half, main_out))


def _unit_forward(op: BaseOP, x: Tensor) -> Tensor:
    """The forward of a ShuffleNetV2 unit."""
    if op.stride == 2:
        out = torch.cat((op.branch_proj(x), op.branch_main(x)), dim=1)
    else:
        x_proj, x_main = x.chunk(2, dim=1)
        out = torch.cat((x_proj, op.branch_main(x_main)), dim=1)
    return channel_shuffle(out, 2)


@MODELS.register_module()
class ShuffleBlock(BaseOP):
    """The ShuffleNetV2 unit of SPOS: pw conv, k x k dw conv, pw conv.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output (even).
        stride (int): 1 or 2. With stride 1, ``in_channels`` must equal
            ``out_channels``; with stride 2 it must be smaller.
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
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        self.kernel_size = kernel_size
        dw, pw = _conv_factories(conv_cfg, norm_cfg, act_cfg)

        def main_branch(in_ch: int, mid: int, out: int) -> List[nn.Module]:
            return [pw(in_ch, mid), dw(mid, kernel_size, stride), pw(mid, out)]

        _build_unit(self, dw, pw, main_branch, kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        return _unit_forward(self, x)


@MODELS.register_module()
class ShuffleXception(BaseOP):
    """The Xception-like unit of SPOS: three (3x3 dw conv, pw conv) pairs.

    The first depthwise conv carries the stride.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output (even).
        stride (int): 1 or 2. With stride 1, ``in_channels`` must equal
            ``out_channels``; with stride 2 it must be smaller.
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
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        self.kernel_size = 3
        dw, pw = _conv_factories(conv_cfg, norm_cfg, act_cfg)

        def main_branch(in_ch: int, mid: int, out: int) -> List[nn.Module]:
            return [
                dw(in_ch, 3, stride), pw(in_ch, mid),
                dw(mid, 3, 1), pw(mid, mid),
                dw(mid, 3, 1), pw(mid, out),
            ]

        _build_unit(self, dw, pw, main_branch, 3)

    def forward(self, x: Tensor) -> Tensor:
        return _unit_forward(self, x)
