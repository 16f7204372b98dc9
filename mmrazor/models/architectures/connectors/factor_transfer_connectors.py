# Copyright (c) OpenMMLab. All rights reserved.
"""Paraphraser (teacher side) and translator (student side) of Factor
Transfer.

Kim et al., "Paraphrasing Complex Network: Network Compression via Factor
Transfer", NeurIPS 2018. https://arxiv.org/abs/1802.04977
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_choice, check_positive_int

from .base_connector import BaseConnector

_PHASES = ('pretrain', 'train')


def _conv_stack(channels: List[int], use_bn: bool,
                transposed: bool = False) -> nn.Sequential:
    """3x3 (transposed) convs, each followed by optional BN and
    LeakyReLU(0.1), through ``channels[0] -> channels[1] -> ...``."""
    conv = nn.ConvTranspose2d if transposed else nn.Conv2d
    layers: List[nn.Module] = []
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        layers.append(conv(c_in, c_out, 3, stride=1, padding=1))
        if use_bn:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.LeakyReLU(0.1, inplace=True))
    return nn.Sequential(*layers)


@MODELS.register_module()
class Paraphraser(BaseConnector):
    """Teacher connector of FT: an autoencoder whose code is the "factor".

    It is used in two phases. In ``'pretrain'`` the encoder and decoder are
    trained to reconstruct the teacher feature, and forward returns the
    reconstruction. In ``'train'`` the paraphraser is frozen and forward
    returns the factor (the encoder output, computed without gradients),
    which the student's :class:`Translator` output is matched to.

    Args:
        in_channel (int): Channels of the teacher feature.
        out_channel (int): Channels of the factor (``k * in_channel`` with
            the paraphrase rate ``k`` of the paper).
        phase (str): ``'pretrain'`` or ``'train'``. Defaults to 'pretrain'.
        use_bn (bool): Whether to put BN after each conv. Defaults to False.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channel: int,
                 out_channel: int,
                 phase: str = 'pretrain',
                 use_bn: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        check_positive_int(self, 'in_channel', in_channel)
        check_positive_int(self, 'out_channel', out_channel)
        self.phase = phase
        self.encoder = _conv_stack(
            [in_channel, in_channel, out_channel, out_channel], use_bn)
        self.decoder = _conv_stack(
            [out_channel, out_channel, in_channel, in_channel],
            use_bn,
            transposed=True)

    @property
    def phase(self) -> str:
        """str: ``'pretrain'`` (reconstruct) or ``'train'`` (factor)."""
        return self._phase

    @phase.setter
    def phase(self, phase: str) -> None:
        self._phase = check_choice(self, 'phase', phase, _PHASES)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return the factor in ``'train'``, the reconstruction in
        ``'pretrain'``."""
        if self.phase == 'train':
            with torch.no_grad():
                return self.encoder(feature)
        return self.decoder(self.encoder(feature))


@MODELS.register_module()
class Translator(BaseConnector):
    """Student connector of FT: maps the student feature to the factor
    space of the teacher's :class:`Paraphraser`.

    Args:
        in_channel (int): Channels of the student feature.
        out_channel (int): Channels of the factor.
        use_bn (bool): Whether to put BN after each conv. Defaults to True.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channel: int,
                 out_channel: int,
                 use_bn: bool = True,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        check_positive_int(self, 'in_channel', in_channel)
        check_positive_int(self, 'out_channel', out_channel)
        self.encoder = _conv_stack(
            [in_channel, in_channel, out_channel, out_channel], use_bn)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Translate ``feature`` to a factor."""
        return self.encoder(feature)
