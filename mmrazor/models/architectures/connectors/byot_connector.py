# Copyright (c) OpenMMLab. All rights reserved.
"""Shallow classifier branch of "Be Your Own Teacher" self-distillation.

Zhang et al., "Be Your Own Teacher: Improve the Performance of
Convolutional Neural Networks via Self Distillation", ICCV 2019.
https://arxiv.org/abs/1905.08094
"""
import math
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_positive_int

from .base_connector import BaseConnector


def _sep_conv(in_channels: int, out_channels: int, kernel_size: int,
              stride: int) -> nn.Sequential:
    """Two depthwise-separable convs (the first strided), each as
    ReLU -> depthwise kxk -> pointwise 1x1 -> BN."""
    padding = kernel_size // 2
    return nn.Sequential(
        nn.ReLU(inplace=False),
        nn.Conv2d(in_channels, in_channels, kernel_size, stride, padding,
                  groups=in_channels, bias=False),
        nn.Conv2d(in_channels, in_channels, 1, bias=False),
        nn.BatchNorm2d(in_channels),
        nn.ReLU(inplace=False),
        nn.Conv2d(in_channels, in_channels, kernel_size, 1, padding,
                  groups=in_channels, bias=False),
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        nn.BatchNorm2d(out_channels))


@MODELS.register_module()
class BYOTConnector(BaseConnector):
    """Attention module, bottleneck and classifier of one shallow section.

    BYOT attaches a classifier to each shallow stage of a network and
    distils the deepest classifier into them. For a stage feature ``x``
    with ``in_channel * expansion`` channels this connector:

    1. computes a spatial-channel attention map ``sigmoid(ReLU(BN(
       sepconv(x))))`` resized back to ``x``'s size, and weights ``x``
       with it;
    2. runs the bottleneck: ``log2(out_channel / in_channel)`` strided
       separable convs, each doubling the channels, so the feature matches
       the deepest stage's ``out_channel * expansion`` channels;
    3. average-pools to a vector ``feat`` and classifies it with a linear
       layer.

    It returns ``(feat, logits)``: ``feat`` is compared with the deepest
    feature (feature loss), ``logits`` with the labels and the deepest
    logits.

    Args:
        in_channel (int): Base channels of the shallow stage.
        out_channel (int): Base channels of the deepest stage;
            ``out_channel / in_channel`` must be a power of two.
        num_classes (int): Number of classes of the classifier.
        expansion (int): Channel expansion of the stage's blocks (4 for
            bottleneck ResNets, 1 for basic blocks). Defaults to 4.
        pool_size (int or tuple[int], optional): Kernel of the final average
            pool; it must reduce the map to 1x1. Defaults to None: global
            average pooling.
        kernel_size (int): Kernel size of the separable convs.
            Defaults to 3.
        stride (int): Stride of the separable convs. Defaults to 1.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channel: int,
                 out_channel: int,
                 num_classes: int,
                 expansion: int = 4,
                 pool_size: Optional[Union[int, Tuple[int, int]]] = None,
                 kernel_size: int = 3,
                 stride: int = 1,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        for field, value in (('in_channel', in_channel),
                             ('out_channel', out_channel),
                             ('num_classes', num_classes),
                             ('expansion', expansion),
                             ('kernel_size', kernel_size),
                             ('stride', stride)):
            check_positive_int(self, field, value)
        num_doublings = math.log2(out_channel / in_channel)
        if out_channel < in_channel or not num_doublings.is_integer():
            raise ValueError(f'{type(self).__name__}: `out_channel` / '
                             '`in_channel` must be a power of two >= 1, but '
                             f'got {out_channel} / {in_channel}')
        channels = in_channel * expansion
        self.attention = nn.Sequential(
            _sep_conv(channels, channels, kernel_size, stride),
            nn.BatchNorm2d(channels), nn.ReLU())
        bottleneck: List[nn.Module] = []
        for _ in range(int(num_doublings)):
            bottleneck.append(
                _sep_conv(channels, channels * 2, kernel_size, stride))
            channels *= 2
        self.bottleneck = nn.Sequential(*bottleneck)
        self.pool = nn.AdaptiveAvgPool2d(1) if pool_size is None \
            else nn.AvgPool2d(pool_size)
        self.fc = nn.Linear(channels, num_classes)

    def forward_train(
            self, feature: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(feat, logits)`` of shapes ``(N, out_channel *
        expansion)`` and ``(N, num_classes)``."""
        attention = self.attention(feature)
        if attention.shape[-2:] != feature.shape[-2:]:
            attention = F.interpolate(
                attention,
                size=feature.shape[-2:],
                mode='bilinear',
                align_corners=False)
        feat = self.pool(self.bottleneck(feature * attention.sigmoid()))
        if feat.shape[-2:] != (1, 1):
            raise ValueError(f'{type(self).__name__}: `pool_size` must pool '
                             'the bottleneck output to 1x1, but it gave '
                             f'{tuple(feat.shape[-2:])}; use pool_size=None '
                             'for global pooling')
        feat = feat.flatten(1)
        return feat, self.fc(feat)
