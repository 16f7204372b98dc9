# Copyright (c) OpenMMLab. All rights reserved.
"""The generator of DAFL, `Data-Free Learning of Student Networks
<https://arxiv.org/abs/1904.01186>`_ (Chen et al., ICCV 2019)."""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .base_generator import BaseGenerator


@MODELS.register_module()
class DAFLGenerator(BaseGenerator):
    """DCGAN-style generator of DAFL (also used by DFAD).

    Noise -> linear -> (``hidden_channels``, s, s) with
    ``s = img_size // scale_factor**2`` -> BN -> upsample -> conv-BN-LeakyReLU
    -> upsample -> conv-BN-LeakyReLU (``hidden_channels // 2``) -> conv to 3
    channels -> tanh -> BN without affine parameters.

    Args:
        img_size (int): Height and width of the generated images.
        latent_dim (int): Dimension of the latent noise.
        hidden_channels (int): Channels of the first feature map.
        scale_factor (int): Factor of each of the two upsamplings.
            Defaults to 2.
        bn_eps (float): ``eps`` of the BN layers inside the conv blocks
            (the paper's code uses 0.8). Defaults to 0.8.
        leaky_slope (float): Negative slope of the LeakyReLUs.
            Defaults to 0.2.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> gen = DAFLGenerator(img_size=32, latent_dim=8, hidden_channels=4)
        >>> gen(batch_size=2).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(self,
                 img_size: int,
                 latent_dim: int,
                 hidden_channels: int,
                 scale_factor: int = 2,
                 bn_eps: float = 0.8,
                 leaky_slope: float = 0.2,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(img_size, latent_dim, hidden_channels, scale_factor,
                         init_cfg)
        hidden = hidden_channels
        self.linear = nn.Linear(latent_dim, hidden * self.init_size**2)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.conv_blocks1 = nn.Sequential(
            nn.Conv2d(hidden, hidden, 3, stride=1, padding=1),
            nn.BatchNorm2d(hidden, eps=bn_eps),
            nn.LeakyReLU(leaky_slope, inplace=True))
        self.conv_blocks2 = nn.Sequential(
            nn.Conv2d(hidden, hidden // 2, 3, stride=1, padding=1),
            nn.BatchNorm2d(hidden // 2, eps=bn_eps),
            nn.LeakyReLU(leaky_slope, inplace=True),
            nn.Conv2d(hidden // 2, 3, 3, stride=1, padding=1), nn.Tanh(),
            nn.BatchNorm2d(3, affine=False))

    def forward(self,
                data: Optional[torch.Tensor] = None,
                batch_size: Optional[int] = None) -> torch.Tensor:
        """Generate images from ``data`` or from ``batch_size`` fresh
        noise samples (see :meth:`process_latent`).

        Returns:
            Tensor: Images of shape (N, 3, ``img_size``, ``img_size``).
        """
        x = self.linear(self.process_latent(data, batch_size))
        x = x.view(x.size(0), self.hidden_channels, self.init_size,
                   self.init_size)
        x = F.interpolate(self.bn1(x), scale_factor=self.scale_factor)
        x = F.interpolate(
            self.conv_blocks1(x), scale_factor=self.scale_factor)
        return self.conv_blocks2(x)
