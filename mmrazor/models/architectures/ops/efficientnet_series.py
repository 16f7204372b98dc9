# Copyright (c) OpenMMLab. All rights reserved.
"""The two EfficientNet-family blocks without an inverted bottleneck:
conv-norm-act and the depthwise-separable block (MobileNet-V1, and the
first stage of EfficientNet where the expansion is 1).

Tan and Le, "EfficientNet: Rethinking Model Scaling for Convolutional
Neural Networks", ICML 2019; Howard et al., "MobileNets", 2017.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmcls.models.utils import SELayer
from mmcv.cnn import ConvModule

from mmrazor.registry import MODELS

from .base import BaseOP


@MODELS.register_module()
class ConvBnAct(BaseOP):
    """A convolution, a norm and an activation (``convModule``), then an
    optional squeeze-and-excitation (``se``) and an identity shortcut.

    The attribute names are the original MMRazor's, so its state dicts load.
    Unlike the original, which builds ``se`` but never calls it, ``se`` is
    applied to the output when ``se_cfg`` is given.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Kernel size of the convolution.
        stride (int): Stride: 1 or 2. Defaults to 1.
        dilation (int): Dilation of the convolution. Defaults to 1.
        padding (int): Padding of the convolution. Defaults to 0.
        skip (bool): Add the input to the output when the shapes allow it
            (stride 1, equal channels). Defaults to False.
        conv_cfg (dict, optional): Convolution config. Defaults to None
            (``nn.Conv2d``).
        se_cfg (dict, optional): Arguments of mmcls ``SELayer`` on the
            output channels. Defaults to None (no SE).
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to
            ``dict(type='ReLU')``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 dilation: int = 1,
                 padding: int = 0,
                 skip: bool = False,
                 conv_cfg: Optional[Dict] = None,
                 se_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU')) -> None:
        super().__init__(in_channels, out_channels, stride)
        self.has_residual = (skip and stride == 1
                             and in_channels == out_channels)
        self.with_se = se_cfg is not None
        if self.with_se:
            self.se = SELayer(out_channels, **se_cfg)
        self.convModule = ConvModule(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.convModule(x)
        if self.with_se:
            out = self.se(out)
        return out + x if self.has_residual else out


@MODELS.register_module()
class DepthwiseSeparableConv(BaseOP):
    """A depthwise convolution (``conv_dw``: conv, norm, act), an optional
    squeeze-and-excitation on its channels (``se``), a pointwise
    convolution (``conv_pw``: conv, norm, activation only with ``pw_act``)
    and an identity shortcut when the shapes allow it.

    The attribute names are the original MMRazor's. Its ``se`` is built on
    ``out_channels`` but applied to the depthwise output, which has
    ``in_channels``: it fails whenever the two differ. Here ``se`` is built
    on ``in_channels``; with equal channels both are the same.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        dw_kernel_size (int): Kernel size of the depthwise convolution.
            Defaults to 3.
        stride (int): Stride of the depthwise convolution: 1 or 2.
            Defaults to 1.
        dilation (int): Dilation of the depthwise convolution. Defaults
            to 1.
        noskip (bool): Never add the shortcut. Defaults to False.
        pw_kernel_size (int): Kernel size of the pointwise convolution.
            Defaults to 1.
        pw_act (bool): Activation after the pointwise convolution.
            Defaults to False.
        conv_cfg (dict, optional): Convolution config. Defaults to None.
        se_cfg (dict, optional): Arguments of mmcls ``SELayer``. Defaults
            to None (``se`` is an ``nn.Identity``).
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to
            ``dict(type='ReLU')``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 dw_kernel_size: int = 3,
                 stride: int = 1,
                 dilation: int = 1,
                 noskip: bool = False,
                 pw_kernel_size: int = 1,
                 pw_act: bool = False,
                 conv_cfg: Optional[Dict] = None,
                 se_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU')) -> None:
        super().__init__(in_channels, out_channels, stride)
        self.has_residual = (stride == 1 and in_channels == out_channels
                             and not noskip)
        self.has_pw_act = pw_act
        self.se_cfg = se_cfg
        self.conv_dw = ConvModule(
            in_channels,
            in_channels,
            dw_kernel_size,
            stride=stride,
            padding=dilation * (dw_kernel_size - 1) // 2,
            dilation=dilation,
            groups=in_channels,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.se = SELayer(in_channels, **se_cfg) if se_cfg else nn.Identity()
        self.conv_pw = ConvModule(
            in_channels,
            out_channels,
            pw_kernel_size,
            padding=pw_kernel_size // 2,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg if pw_act else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_pw(self.se(self.conv_dw(x)))
        return out + x if self.has_residual else out
