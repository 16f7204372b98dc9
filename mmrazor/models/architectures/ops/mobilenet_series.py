# Copyright (c) OpenMMLab. All rights reserved.
"""The inverted residual block of the MobileNet search spaces.

MobileNetV2 (Sandler et al., CVPR 2018, https://arxiv.org/abs/1801.04381)
introduced the inverted residual: a 1x1 conv expanding the channels, a
``k x k`` depthwise conv and a linear 1x1 projection, with a residual when the
shape is kept. MobileNetV3 (Howard et al., ICCV 2019,
https://arxiv.org/abs/1905.02244) adds a squeeze-and-excitation layer after
the depthwise conv. The SPOS MobileNet space searches the kernel size and the
expand ratio of each block; the AttentiveNAS space (Wang et al., CVPR 2021,
https://arxiv.org/abs/2011.09011) also gives every block a shortcut
(average pooling and a 1x1 conv when the shape changes).
"""
from functools import partial
from typing import Dict, Optional

import torch.nn as nn
import torch.nn.functional as F
from mmcls.models.utils import SELayer
from mmcv.cnn import ConvModule, build_conv_layer
from mmcv.cnn.bricks.drop import drop_path
from torch import Tensor

from mmrazor.registry import MODELS

from .._checkpointing import checkpointed
from .base import BaseOP


class ShortcutLayer(nn.Module):
    """The shortcut of AttentiveNAS blocks: pool, then project if needed.

    With ``reduction`` 2 the input is average-pooled (2x2, stride 2, with
    one pixel of padding on odd sizes, so the size matches a stride-2 "same"
    conv). When ``in_channels != out_channels`` a 1x1 conv without bias maps
    the channels; otherwise ``conv`` is an ``nn.Identity``. A searchable
    backbone may replace ``conv`` by an elastic projection.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output.
        reduction (int): Spatial reduction, 1 or 2. Defaults to 1.
        conv_cfg (dict, optional): Config of the conv. Defaults to None
            (``nn.Conv2d``).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 reduction: int = 1,
                 conv_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        if reduction not in (1, 2):
            raise ValueError('ShortcutLayer: `reduction` must be 1 or 2, but '
                             f'got {reduction!r}')
        self.reduction = reduction
        if in_channels == out_channels:
            self.conv: nn.Module = nn.Identity()
        else:
            self.conv = build_conv_layer(
                conv_cfg, in_channels, out_channels, kernel_size=1,
                bias=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.reduction > 1:
            x = F.avg_pool2d(x, self.reduction, padding=x.size(-1) & 1)
        return self.conv(x)


@MODELS.register_module()
class MBBlock(BaseOP):
    """The inverted residual block of MobileNetV2 / V3 (an "MB" block).

    ``expand_conv`` (1x1 conv + norm + act, only when ``expand_ratio`` is
    not 1), ``depthwise_conv`` (``k x k`` depthwise conv + norm + act),
    optional ``se`` (mmcls ``SELayer``) and ``linear_conv`` (1x1 conv +
    norm, no act). The block adds its input back when ``stride`` is 1 and
    ``in_channels == out_channels``; with ``with_attentive_shortcut`` every
    block adds a :class:`ShortcutLayer` of its input instead. Drop path
    applies to the main branch when the shortcut is the identity.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output.
        stride (int): Stride of the depthwise conv, 1 or 2.
        kernel_size (int): Kernel size of the depthwise conv (odd).
        expand_ratio (float): The hidden width is
            ``round(in_channels * expand_ratio)``.
        se_cfg (dict, optional): Arguments of mmcls ``SELayer`` (e.g.
            ``ratio``, ``act_cfg``, ``conv_cfg``); None builds no SE layer.
            Defaults to None.
        conv_cfg (dict, optional): Config of the convs. Defaults to None
            (``nn.Conv2d``).
        norm_cfg (dict): Config of the norms. Defaults to
            ``dict(type='BN')``.
        act_cfg (dict): Config of the activations. Defaults to
            ``dict(type='ReLU')``.
        drop_path_rate (float): Stochastic depth rate. Defaults to 0.
        with_cp (bool): Whether to checkpoint the block's activations while
            training (saves memory, costs a second forward). Defaults to
            False.
        with_attentive_shortcut (bool): Whether to use the AttentiveNAS
            shortcut. Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> import torch
        >>> block = MBBlock(16, 24, stride=2, kernel_size=5, expand_ratio=6)
        >>> block(torch.rand(1, 16, 32, 32)).shape
        torch.Size([1, 24, 16, 16])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int,
                 kernel_size: int,
                 expand_ratio: float,
                 se_cfg: Optional[Dict] = None,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU'),
                 drop_path_rate: float = 0.,
                 with_cp: bool = False,
                 with_attentive_shortcut: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        name = type(self).__name__
        if not isinstance(kernel_size, int) or kernel_size % 2 == 0 or \
                kernel_size < 1:
            raise ValueError(f'{name}: `kernel_size` must be an odd positive '
                             f'int, but got {kernel_size!r}')
        if not isinstance(expand_ratio, (int, float)) or expand_ratio <= 0:
            raise ValueError(f'{name}: `expand_ratio` must be a positive '
                             f'number, but got {expand_ratio!r}')
        if se_cfg is not None and not isinstance(se_cfg, dict):
            raise TypeError(f'{name}: `se_cfg` must be a dict of SELayer '
                            f'arguments or None, but got {se_cfg!r}')
        self.kernel_size = kernel_size
        self.expand_ratio = expand_ratio
        self.drop_path_rate = drop_path_rate
        self.with_cp = with_cp
        self.with_se = se_cfg is not None
        self.se_cfg = se_cfg
        self.with_attentive_shortcut = with_attentive_shortcut
        self.with_res_shortcut = (stride == 1 and in_channels == out_channels
                                  and not with_attentive_shortcut)
        self.mid_channels = int(round(in_channels * expand_ratio))
        self.with_expand_conv = self.mid_channels != in_channels

        conv = partial(
            ConvModule, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        if self.with_expand_conv:
            self.expand_conv = conv(in_channels, self.mid_channels, 1)
        self.depthwise_conv = conv(
            self.mid_channels,
            self.mid_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=self.mid_channels)
        if self.with_se:
            self.se = SELayer(self.mid_channels, **se_cfg)
        self.linear_conv = conv(
            self.mid_channels, out_channels, 1, act_cfg=None)
        if with_attentive_shortcut:
            self.shortcut = ShortcutLayer(
                in_channels, out_channels, reduction=stride,
                conv_cfg=conv_cfg)

    def _inner_forward(self, x: Tensor) -> Tensor:
        out = self.expand_conv(x) if self.with_expand_conv else x
        out = self.depthwise_conv(out)
        if self.with_se:
            out = self.se(out)
        out = self.linear_conv(out)
        if self.with_res_shortcut:
            return x + drop_path(out, self.drop_path_rate, self.training)
        if self.with_attentive_shortcut:
            shortcut = self.shortcut(x)
            if self.stride == 1 and x.size(1) == out.size(1):
                out = drop_path(out, self.drop_path_rate, self.training)
            return shortcut + out
        return out

    def forward(self, x: Tensor) -> Tensor:
        """Run the block.

        Args:
            x (Tensor): Input of shape (N, in_channels, H, W).

        Returns:
            Tensor: Output of shape (N, out_channels, H', W').
        """
        if self.with_cp and self.training and x.requires_grad:
            return checkpointed(self, self._inner_forward, x)
        return self._inner_forward(x)
