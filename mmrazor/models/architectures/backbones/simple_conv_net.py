# Copyright (c) OpenMMLab. All rights reserved.
"""``SimpleConvNet``: a two-conv backbone, small enough to gain from KD."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmrazor.registry import MODELS


@MODELS.register_module()
class SimpleConvNet(BaseModule):
    """Two 3x3 convs with batch norm and ReLU, a 2x2 max-pool between them.

    ``conv3x3(in_channels, c1)-BN-ReLU-maxpool, conv3x3(c1, c2)-BN-ReLU``,
    with ``(c1, c2) = channels``. It returns the last feature map at half
    the input size, in a tuple as mmcls necks expect; pool it with mmcls's
    ``GlobalAveragePooling`` neck. At the default ``channels=(16, 32)`` it
    has 5,136 parameters (5,466 with a 10-class linear head): a student
    small enough that the digits distillation demo (``tools/demo_distill.py``)
    shows a clear gain from a teacher.

    Args:
        channels (Sequence[int]): Output channels of the two convs.
            Defaults to ``(16, 32)``.
        in_channels (int): Channels of the input images. Defaults to 3.
        norm_cfg (dict): Config of the norm layers. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None (each ``ConvModule``'s own initialization:
            Kaiming for the convs, ones and zeros for the norms).

    Examples:
        >>> import torch
        >>> net = SimpleConvNet()
        >>> [f.shape for f in net(torch.rand(2, 3, 32, 32))]
        [torch.Size([2, 32, 16, 16])]
    """

    def __init__(self,
                 channels: Sequence[int] = (16, 32),
                 in_channels: int = 3,
                 norm_cfg: Dict = dict(type='BN'),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        channels = tuple(channels)
        if len(channels) != 2 or not all(
                isinstance(c, int) and c > 0 for c in channels):
            raise ValueError(
                'SimpleConvNet: channels must be two positive ints (the '
                f'output channels of its two convs), got {channels!r}.')
        if not isinstance(in_channels, int) or in_channels <= 0:
            raise ValueError('SimpleConvNet: in_channels must be a positive '
                             f'int, got {in_channels!r}.')
        self.channels = channels
        self.in_channels = in_channels
        self.conv1 = ConvModule(
            in_channels, channels[0], 3, padding=1, norm_cfg=norm_cfg)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = ConvModule(
            channels[0], channels[1], 3, padding=1, norm_cfg=norm_cfg)

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        """Return ``(feature map, )`` of shape (N, channels[1], H/2, W/2)."""
        return (self.conv2(self.pool(self.conv1(x))), )
