# Copyright (c) OpenMMLab. All rights reserved.
"""Teacher connector of Overhaul Feature Distillation.

Heo et al., "A Comprehensive Overhaul of Feature Distillation", ICCV 2019.
https://arxiv.org/abs/1904.01866
"""
import math
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.registry import MODELS

from .base_connector import BaseConnector


def margin_from_stats(std: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """The OFD margin ``m = E[x | x < 0]`` of ``x ~ N(mean, std^2)``.

    For a Gaussian, ``E[x | x < 0] = mean - std * pdf(a) / cdf(-a)`` with
    ``a = mean / std``. The ratio is evaluated in log space (``log_ndtr``),
    so it stays finite when the negative tail is tiny.

    Args:
        std (torch.Tensor): Per-channel standard deviation (its absolute
            value is used, so a negative BN weight is accepted).
        mean (torch.Tensor): Per-channel mean.

    Returns:
        torch.Tensor: Per-channel margin, with the shape of ``mean``.
    """
    std64 = std.detach().double().abs().clamp_min(1e-12)
    mean64 = mean.detach().double()
    a = mean64 / std64
    log_pdf = -0.5 * a * a - 0.5 * math.log(2 * math.pi)
    ratio = torch.exp(log_pdf - torch.special.log_ndtr(-a))
    return (mean64 - std64 * ratio).to(mean.dtype)


@MODELS.register_module()
class OFDTeacherConnector(BaseConnector):
    """Margin ReLU on the teacher's pre-ReLU feature: ``max(x, m)``.

    ``m`` is the per-channel expectation of the negative responses,
    computed from the statistics of the BN layer that produced the feature
    (output mean = BN bias, output std = BN weight). Call
    :meth:`init_margin` (or :meth:`init_margin_from_bn`) before the first
    forward; the distillation algorithm does this when it is built.

    Args:
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        self.register_buffer('margin', None)

    def init_margin(self, std: torch.Tensor, mean: torch.Tensor) -> None:
        """Set the per-channel margin from the feature's statistics.

        Args:
            std (torch.Tensor): Per-channel std, shape ``(C, )``.
            mean (torch.Tensor): Per-channel mean, shape ``(C, )``.
        """
        if std.shape != mean.shape or std.dim() != 1:
            raise ValueError(f'{type(self).__name__}: `std` and `mean` must '
                             'be 1-d tensors of the same length (C, ), but '
                             f'got {tuple(std.shape)} and '
                             f'{tuple(mean.shape)}')
        self.margin = margin_from_stats(std, mean).view(1, -1, 1, 1)

    def init_margin_from_bn(self, bn: nn.Module) -> None:
        """Set the margin from a BN layer's affine ``weight`` and ``bias``.

        Args:
            bn (nn.Module): The affine ``_BatchNorm`` whose output is the
                feature this connector receives.
        """
        if not isinstance(bn, _BatchNorm) or not bn.affine:
            raise TypeError(f'{type(self).__name__}: `bn` must be an affine '
                            'batch norm layer, but got '
                            f'{type(bn).__name__}')
        self.init_margin(bn.weight.data, bn.bias.data)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Apply the margin ReLU ``max(feature, margin)``."""
        if self.margin is None:
            raise RuntimeError(f'{type(self).__name__}: the margin is not '
                               'set; call `init_margin(std, mean)` or '
                               '`init_margin_from_bn(bn)` first')
        if self.margin.size(1) != feature.size(1):
            raise ValueError(f'{type(self).__name__}: the margin has '
                             f'{self.margin.size(1)} channels but the '
                             f'feature has {feature.size(1)}')
        return torch.max(feature, self.margin.to(feature.dtype))
