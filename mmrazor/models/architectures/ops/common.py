# Copyright (c) OpenMMLab. All rights reserved.
"""Ops shared by several search spaces."""
from typing import Dict, Optional

import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor

from mmrazor.registry import MODELS

from .base import BaseOP


@MODELS.register_module()
class Identity(BaseOP):
    """The "skip" candidate: returns its input.

    When the shape must change (``stride`` > 1 or ``in_channels`` !=
    ``out_channels``), a 1x1 conv + norm with that stride maps the input to
    the output shape instead.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output.
        stride (int): Stride, 1 or 2. Defaults to 1.
        conv_cfg (dict, optional): Config of the projection conv. Defaults
            to None (``nn.Conv2d``).
        norm_cfg (dict): Config of the projection norm. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        if stride != 1 or in_channels != out_channels:
            self.downsample: nn.Module = ConvModule(
                in_channels,
                out_channels,
                kernel_size=1,
                stride=stride,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=None)
        else:
            self.downsample = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.downsample(x)
