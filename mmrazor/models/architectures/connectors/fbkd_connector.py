# Copyright (c) OpenMMLab. All rights reserved.
"""Student and teacher connectors of feature-based distillation (FBKD).

Zhang & Ma, "Improve Object Detection with Feature-based Knowledge
Distillation: Towards Accurate and Efficient Detectors", ICLR 2021.
https://openreview.net/forum?id=uKhGRvM8QNH

Both connectors compute the attention masks of the paper and the
non-local relation of the feature (Wang et al., "Non-local Neural
Networks", CVPR 2018, https://arxiv.org/abs/1711.07971).
"""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_choice, check_positive_int

from .base_connector import BaseConnector

_MODES = ('gaussian', 'embedded_gaussian', 'dot_product', 'concatenation')


class NonLocal2d(nn.Module):
    """Non-local block ``x + W_z(f(x_i, x_j) g(x_j))`` for 2-d features.

    Args:
        in_channels (int): Channels of the feature.
        reduction (int): ``g``, ``theta`` and ``phi`` have
            ``in_channels // reduction`` channels. Defaults to 2.
        conv_cfg (dict, optional): Config of the output conv.
            Defaults to None, ``nn.Conv2d``.
        norm_cfg (dict, optional): Config of the output norm.
            Defaults to ``dict(type='BN')``.
        mode (str): The pairwise function ``f``: ``'gaussian'``,
            ``'embedded_gaussian'``, ``'dot_product'`` or
            ``'concatenation'``. Defaults to 'dot_product'.
        sub_sample (bool): Whether to max-pool ``g`` and ``phi`` spatially.
            Defaults to False.
        maxpool_stride (int): Kernel and stride of that pooling.
            Defaults to 2.
        zeros_init (bool): Whether to zero-initialise the output layer, so
            the block starts as the identity. Defaults to True.
    """

    def __init__(self,
                 in_channels: int,
                 reduction: int = 2,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = dict(type='BN'),
                 mode: str = 'dot_product',
                 sub_sample: bool = False,
                 maxpool_stride: int = 2,
                 zeros_init: bool = True) -> None:
        super().__init__()
        self.mode = mode
        inter = max(in_channels // reduction, 1)
        self.inter_channels = inter
        self.g = nn.Conv2d(in_channels, inter, 1)
        if mode != 'gaussian':
            self.theta = nn.Conv2d(in_channels, inter, 1)
            self.phi = nn.Conv2d(in_channels, inter, 1)
        if mode == 'concatenation':
            self.concat_project = nn.Sequential(
                nn.Conv2d(2 * inter, 1, 1, bias=False), nn.ReLU())
        self.pool = nn.MaxPool2d(maxpool_stride) if sub_sample \
            else nn.Identity()
        self.conv_out = ConvModule(
            inter,
            in_channels,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None)
        if zeros_init:
            last = self.conv_out.norm if self.conv_out.with_norm \
                else self.conv_out.conv
            nn.init.zeros_(last.weight)
            if getattr(last, 'bias', None) is not None:
                nn.init.zeros_(last.bias)

    def _pairwise(self, x: torch.Tensor) -> torch.Tensor:
        """Return the ``(N, HW, hw)`` weights of every key for each query."""
        if self.mode == 'gaussian':
            query = x.flatten(2).transpose(1, 2)
            key = self.pool(x).flatten(2)
            return torch.softmax(query @ key, dim=-1)
        query = self.theta(x).flatten(2).transpose(1, 2)
        key = self.pool(self.phi(x)).flatten(2)
        if self.mode == 'embedded_gaussian':
            return torch.softmax(
                query @ key / self.inter_channels**0.5, dim=-1)
        if self.mode == 'dot_product':
            return query @ key / key.size(-1)
        n, c, num_q = query.size(0), query.size(2), query.size(1)
        num_k = key.size(-1)
        pairs = torch.cat([
            query.transpose(1, 2).unsqueeze(3).expand(n, c, num_q, num_k),
            key.unsqueeze(2).expand(n, c, num_q, num_k)
        ], dim=1)
        return self.concat_project(pairs).squeeze(1) / num_k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Add the non-local response to ``x``."""
        value = self.pool(self.g(x)).flatten(2).transpose(1, 2)
        y = (self._pairwise(x) @ value).transpose(1, 2)
        y = y.reshape(x.size(0), self.inter_channels, *x.shape[2:])
        return x + self.conv_out(y)


def _attention_masks(x: torch.Tensor, spatial_t: float,
                     channel_t: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """The paper's spatial ``(N, 1, H, W)`` and channel ``(N, C, 1, 1)``
    masks: a temperature softmax of the mean absolute response, scaled so
    that each mask averages to one."""
    n, c, h, w = x.shape
    spatial = x.abs().mean(dim=1).view(n, -1)
    spatial = (h * w) * torch.softmax(spatial / spatial_t, dim=1)
    channel = x.abs().mean(dim=(2, 3))
    channel = c * torch.softmax(channel / channel_t, dim=1)
    return spatial.view(n, 1, h, w), channel.view(n, c, 1, 1)


class _FBKDConnector(BaseConnector):
    """Argument checks and the non-local block both FBKD connectors share."""

    def __init__(self,
                 in_channels: int,
                 reduction: int = 2,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = dict(type='BN'),
                 mode: str = 'dot_product',
                 sub_sample: bool = False,
                 maxpool_stride: int = 2,
                 zeros_init: bool = True,
                 spatial_T: float = 0.5,
                 channel_T: float = 0.5,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        check_positive_int(self, 'in_channels', in_channels)
        check_positive_int(self, 'reduction', reduction)
        check_positive_int(self, 'maxpool_stride', maxpool_stride)
        check_choice(self, 'mode', mode, _MODES)
        for field, value in (('spatial_T', spatial_T),
                             ('channel_T', channel_T)):
            if isinstance(value, bool) or \
                    not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f'{type(self).__name__}: `{field}` must be '
                                 f'a positive float, but got {value!r}')
        self.in_channels = in_channels
        self.spatial_T = float(spatial_T)
        self.channel_T = float(channel_T)
        self.non_local = NonLocal2d(
            in_channels,
            reduction=reduction,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            mode=mode,
            sub_sample=sub_sample,
            maxpool_stride=maxpool_stride,
            zeros_init=zeros_init)

    def _masks(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return _attention_masks(x, self.spatial_T, self.channel_T)


@MODELS.register_module()
class FBKDStudentConnector(_FBKDConnector):
    """Student connector of FBKD: masks, adapted pools, adapted relation and
    adapted feature of the student feature.

    Args:
        in_channels (int): Channels of the feature (student and teacher
            features have the same channels in FBKD, e.g. FPN outputs).
        reduction (int): Channel reduction of the non-local block.
            Defaults to 2.
        conv_cfg (dict, optional): Output conv config of the non-local
            block. Defaults to None, ``nn.Conv2d``.
        norm_cfg (dict, optional): Output norm config of the non-local
            block. Defaults to ``dict(type='BN')``.
        mode (str): Pairwise function of the non-local block:
            ``'gaussian'``, ``'embedded_gaussian'``, ``'dot_product'`` or
            ``'concatenation'``. Defaults to 'dot_product'.
        sub_sample (bool): Whether the non-local block max-pools its keys.
            Defaults to False.
        maxpool_stride (int): Kernel and stride of that pooling.
            Defaults to 2.
        zeros_init (bool): Whether the non-local block starts as the
            identity. Defaults to True.
        spatial_T (float): Temperature of the spatial mask. Defaults to 0.5.
        channel_T (float): Temperature of the channel mask. Defaults to 0.5.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 reduction: int = 2,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = dict(type='BN'),
                 mode: str = 'dot_product',
                 sub_sample: bool = False,
                 maxpool_stride: int = 2,
                 zeros_init: bool = True,
                 spatial_T: float = 0.5,
                 channel_T: float = 0.5,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(
            in_channels,
            reduction=reduction,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            mode=mode,
            sub_sample=sub_sample,
            maxpool_stride=maxpool_stride,
            zeros_init=zeros_init,
            spatial_T=spatial_T,
            channel_T=channel_T,
            init_cfg=init_cfg)
        self.channel_wise_adaptation = nn.Linear(in_channels, in_channels)
        self.spatial_wise_adaptation = nn.Conv2d(1, 1, 3, padding=1)
        self.adaptation_layers = nn.Conv2d(in_channels, in_channels, 1)
        self.non_local_adaptation = nn.Conv2d(in_channels, in_channels, 1)

    def forward_train(self, feature: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Connect a student feature ``(N, C, H, W)``.

        Returns:
            tuple[torch.Tensor]: In this order:

            - ``s_spatial_mask`` ``(N, 1, H, W)``: spatial attention mask.
            - ``s_channel_mask`` ``(N, C, 1, 1)``: channel attention mask.
            - ``s_channel_pool_adapt`` ``(N, C)``: spatially averaged
              feature through a linear adaptation.
            - ``s_spatial_pool_adapt`` ``(N, 1, H, W)``: channel-averaged
              feature through a 3x3 conv adaptation.
            - ``s_relation_adapt`` ``(N, C, H, W)``: non-local output
              through a 1x1 conv adaptation.
            - ``s_feat_adapt`` ``(N, C, H, W)``: feature through a 1x1 conv
              adaptation.
        """
        spatial_mask, channel_mask = self._masks(feature)
        channel_pool = self.channel_wise_adaptation(feature.mean(dim=(2, 3)))
        spatial_pool = self.spatial_wise_adaptation(
            feature.mean(dim=1, keepdim=True))
        relation = self.non_local_adaptation(self.non_local(feature))
        return (spatial_mask, channel_mask, channel_pool, spatial_pool,
                relation, self.adaptation_layers(feature))


@MODELS.register_module()
class FBKDTeacherConnector(_FBKDConnector):
    """Teacher connector of FBKD: masks, pooled feature and relation of the
    teacher feature.

    Takes the arguments of :class:`FBKDStudentConnector`.
    """

    def forward_train(self, feature: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Connect a teacher feature ``(N, C, H, W)``.

        Returns:
            tuple[torch.Tensor]: In this order:

            - ``t_spatial_mask`` ``(N, 1, H, W)``: spatial attention mask.
            - ``t_channel_mask`` ``(N, C, 1, 1)``: channel attention mask.
            - ``t_spatial_pool`` ``(N, 1, H, W)``: channel-averaged feature.
            - ``t_relation`` ``(N, C, H, W)``: non-local output.
            - ``t_feat`` ``(N, C, H, W)``: the feature itself.
        """
        spatial_mask, channel_mask = self._masks(feature)
        return (spatial_mask, channel_mask,
                feature.mean(dim=1, keepdim=True), self.non_local(feature),
                feature)
