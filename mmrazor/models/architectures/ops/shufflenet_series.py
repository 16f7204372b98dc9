# Copyright (c) OpenMMLab. All rights reserved.
"""Candidate blocks of the SPOS ShuffleNetV2 search space.

Guo et al., "Single Path One-Shot Neural Architecture Search with Uniform
Sampling", ECCV 2020 (https://arxiv.org/abs/1904.00420). The space has four
choices per block: ShuffleNetV2 units with a 3x3, 5x5 or 7x7 depthwise
kernel, and an Xception-like unit with three 3x3 depthwise convolutions.

Both blocks are ShuffleNetV2 units whose two branches give half of the
``out_channels`` each. With stride 1 the input is split in two halves: the
first passes unchanged, the second goes through ``branch2``. With stride 2
the whole input goes through ``branch1`` (depthwise conv + pointwise conv)
and through ``branch2``. The two halves are concatenated and shuffled. The
blocks differ only in ``branch2``. Module names and shapes are those of
MMRazor 1.0, so its checkpoints load unchanged.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmcls.models.utils import channel_shuffle
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from torch import Tensor

from mmrazor.registry import MODELS

from .._checkpointing import checkpointed
from .base import BaseOP


def _check_unit(op: BaseOP) -> None:
    """Check the channel rules of a ShuffleNetV2 unit."""
    name = type(op).__name__
    if op.out_channels % 2 != 0:
        raise ValueError(f'{name}: `out_channels` must be even, but got '
                         f'{op.out_channels}')
    if op.stride == 1 and op.in_channels != op.out_channels:
        raise ValueError(
            f'{name}: with stride 1 half of the input passes unchanged, so '
            f'`in_channels` must equal `out_channels`, but got '
            f'{op.in_channels} and {op.out_channels}; use stride 2 to change '
            'the width')


def _branch1(op: BaseOP, kernel_size: int, conv_cfg: Optional[Dict],
             norm_cfg: Dict, act_cfg: Dict) -> nn.Sequential:
    """The stride-2 branch: k x k depthwise conv (no activation), then a
    pointwise conv to half of ``out_channels``."""
    return nn.Sequential(
        ConvModule(
            op.in_channels,
            op.in_channels,
            kernel_size,
            stride=op.stride,
            padding=kernel_size // 2,
            groups=op.in_channels,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None),
        ConvModule(
            op.in_channels,
            op.out_channels // 2,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg))


class _ShuffleUnit(BaseOP):
    """What both SPOS units share: the checks, ``branch1`` and the forward.

    Subclasses build ``branch2``, which maps ``branch2_in_channels`` to
    half of ``out_channels`` with the unit's stride.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 kernel_size: int, conv_cfg: Optional[Dict], norm_cfg: Dict,
                 act_cfg: Dict, with_cp: bool,
                 init_cfg: Optional[Dict]) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        _check_unit(self)
        self.kernel_size = kernel_size
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.with_cp = with_cp
        if stride == 2:
            self.branch1 = _branch1(self, kernel_size, conv_cfg, norm_cfg,
                                    act_cfg)

    @property
    def branch2_in_channels(self) -> int:
        """Input width of ``branch2``: all the input with stride 2, half of
        it with stride 1."""
        return self.in_channels if self.stride == 2 else self.out_channels // 2

    def _forward(self, x: Tensor) -> Tensor:
        if self.stride == 2:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        else:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        return channel_shuffle(out, 2)

    def forward(self, x: Tensor) -> Tensor:
        """Run the unit (under activation checkpointing if ``with_cp`` and
        the input needs gradients)."""
        if self.with_cp and x.requires_grad:
            return checkpointed(self, self._forward, x)
        return self._forward(x)


@MODELS.register_module()
class ShuffleBlock(_ShuffleUnit):
    """The ShuffleNetV2 unit of SPOS: ``branch2`` is a pointwise conv, a
    k x k depthwise conv and a pointwise conv, each of half the output width.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output (even).
        stride (int): 1 or 2. With stride 1, ``in_channels`` must equal
            ``out_channels``. Defaults to 1.
        kernel_size (int): Depthwise kernel size: 3, 5 or 7. Defaults to 3.
        conv_cfg (dict, optional): Config of the conv layers. Defaults to
            None (``nn.Conv2d``).
        norm_cfg (dict): Config of the norm layers. Defaults to
            ``dict(type='BN')``.
        act_cfg (dict): Config of the activations. Defaults to
            ``dict(type='ReLU')``.
        with_cp (bool): Whether to checkpoint the activations while
            training (saves memory, costs a second forward). Defaults to
            False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> import torch
        >>> block = ShuffleBlock(16, 32, stride=2, kernel_size=5)
        >>> block(torch.randn(1, 16, 8, 8)).shape
        torch.Size([1, 32, 4, 4])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 kernel_size: int = 3,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU'),
                 with_cp: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        if kernel_size not in (3, 5, 7):
            raise ValueError('ShuffleBlock: `kernel_size` must be 3, 5 or 7, '
                             f'but got {kernel_size!r}')
        super().__init__(in_channels, out_channels, stride, kernel_size,
                         conv_cfg, norm_cfg, act_cfg, with_cp, init_cfg)
        half = out_channels // 2
        self.branch2 = nn.Sequential(
            ConvModule(
                self.branch2_in_channels,
                half,
                1,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg),
            ConvModule(
                half,
                half,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                groups=half,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=None),
            ConvModule(
                half,
                half,
                1,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg))


@MODELS.register_module()
class ShuffleXception(_ShuffleUnit):
    """The Xception-like unit of SPOS: ``branch2`` is three depthwise
    separable convs (3x3 depthwise without activation, then pointwise), each
    of half the output width; the first carries the stride.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output (even).
        stride (int): 1 or 2. With stride 1, ``in_channels`` must equal
            ``out_channels``. Defaults to 1.
        conv_cfg (dict, optional): Config of the conv layers. Defaults to
            None (``nn.Conv2d``).
        norm_cfg (dict): Config of the norm layers. Defaults to
            ``dict(type='BN')``.
        act_cfg (dict): Config of the activations. Defaults to
            ``dict(type='ReLU')``.
        with_cp (bool): Whether to checkpoint the activations while
            training (saves memory, costs a second forward). Defaults to
            False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> import torch
        >>> block = ShuffleXception(32, 32)
        >>> block(torch.randn(1, 32, 8, 8)).shape
        torch.Size([1, 32, 8, 8])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU'),
                 with_cp: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, out_channels, stride, 3, conv_cfg,
                         norm_cfg, act_cfg, with_cp, init_cfg)
        self.mid_channels = out_channels // 2
        widths = [self.branch2_in_channels] + [self.mid_channels] * 3
        self.branch2 = nn.Sequential(*[
            DepthwiseSeparableConvModule(
                widths[i],
                widths[i + 1],
                3,
                stride=stride if i == 0 else 1,
                padding=1,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                dw_act_cfg=None) for i in range(3)
        ])
