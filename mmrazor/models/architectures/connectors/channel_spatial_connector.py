# Copyright (c) OpenMMLab. All rights reserved.
"""Align a student feature with the teacher's channels and spatial size."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_choice, check_positive_int

from .base_connector import BaseConnector

_MODES = ('bilinear', 'area', 'adaptive_avg')


@MODELS.register_module()
class ChannelSpatialConnector(BaseConnector):
    """A 1x1 conv to the teacher's channels plus a resize to the teacher's
    height and width.

    The resize is linear, weights each output position by weights that sum
    to one, and acts on each channel alone; so it commutes with the 1x1 conv
    (bias included), and the connector runs the conv on whichever of the
    two maps is smaller.

    Args:
        in_channels (int): Channels of the student feature.
        out_channels (int): Channels of the teacher feature.
        out_size (int or tuple[int, int], optional): Teacher's ``(H, W)``;
            an int means a square. Defaults to None: keep the spatial size.
        mode (str): How to resize: ``'bilinear'`` (interpolation),
            ``'area'`` (``F.interpolate(mode='area')``) or ``'adaptive_avg'``
            (``F.adaptive_avg_pool2d``). Defaults to 'bilinear'.
        align_corners (bool): Passed to bilinear interpolation.
            Defaults to False.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.

    Examples:
        >>> connector = ChannelSpatialConnector(8, 16, out_size=(3, 3))
        >>> connector(torch.rand(2, 8, 6, 6)).shape
        torch.Size([2, 16, 3, 3])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 out_size: Optional[Union[int, Sequence[int]]] = None,
                 mode: str = 'bilinear',
                 align_corners: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        check_positive_int(self, 'in_channels', in_channels)
        check_positive_int(self, 'out_channels', out_channels)
        self.mode = check_choice(self, 'mode', mode, _MODES)
        self.out_size = self._parse_size(out_size)
        self.align_corners = align_corners
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def _parse_size(
        self, out_size: Optional[Union[int, Sequence[int]]]
    ) -> Optional[Tuple[int, int]]:
        if out_size is None:
            return None
        size = (out_size, out_size) if isinstance(out_size, int) \
            and not isinstance(out_size, bool) else out_size
        if not isinstance(size, (tuple, list)) or len(size) != 2 or any(
                isinstance(s, bool) or not isinstance(s, int) or s <= 0
                for s in size):
            raise ValueError(f'{type(self).__name__}: `out_size` must be a '
                             'positive int or a pair (H, W) of positive '
                             f'ints, but got {out_size!r}')
        return tuple(size)

    def _resize(self, feature: torch.Tensor) -> torch.Tensor:
        if self.out_size is None or tuple(feature.shape[-2:]) == \
                self.out_size:
            return feature
        if self.mode == 'adaptive_avg':
            return F.adaptive_avg_pool2d(feature, self.out_size)
        if self.mode == 'area':
            return F.interpolate(feature, size=self.out_size, mode='area')
        return F.interpolate(
            feature,
            size=self.out_size,
            mode='bilinear',
            align_corners=self.align_corners)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Map ``(N, in_channels, h, w)`` to
        ``(N, out_channels, *out_size)``."""
        h, w = feature.shape[-2:]
        shrinks = self.out_size is not None and \
            self.out_size[0] * self.out_size[1] < h * w
        if shrinks:
            return self.conv(self._resize(feature))
        return self._resize(self.conv(feature))
