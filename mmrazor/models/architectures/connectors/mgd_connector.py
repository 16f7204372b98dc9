# Copyright (c) OpenMMLab. All rights reserved.
"""Student connector of Masked Generative Distillation.

Yang et al., "Masked Generative Distillation", ECCV 2022.
https://arxiv.org/abs/2205.01529
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_positive_int

from .base_connector import BaseConnector


# 'MGDConncetor': the original MMRazor's spelling, kept for its configs.
@MODELS.register_module(name=['MGDConnector', 'MGDConncetor'])
class MGDConnector(BaseConnector):
    """Mask random pixels of the student feature, then regenerate the
    teacher's full feature from what is left.

    The student feature is aligned to the teacher's channels (1x1 conv, only
    when they differ), each spatial position is zeroed with probability
    ``lambda_mgd`` (the same mask for all channels), and the generation
    block ``conv3x3 -> ReLU -> conv3x3`` produces the feature the loss
    compares with the teacher's.

    Args:
        student_channels (int): Channels of the student feature.
        teacher_channels (int): Channels of the teacher feature.
        lambda_mgd (float): Ratio of masked positions, in ``[0, 1)``.
            Defaults to 0.65.
        mask_on_channel (bool): Mask whole channels (one draw per sample and
            channel) instead of spatial positions, as the original
            MMRazor's option. Defaults to False.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 lambda_mgd: float = 0.65,
                 mask_on_channel: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        check_positive_int(self, 'student_channels', student_channels)
        check_positive_int(self, 'teacher_channels', teacher_channels)
        if isinstance(lambda_mgd, bool) or \
                not isinstance(lambda_mgd, (int, float)) or \
                not 0 <= lambda_mgd < 1:
            raise ValueError(f'{type(self).__name__}: `lambda_mgd` must be a '
                             f'float in [0, 1), but got {lambda_mgd!r}')
        self.lambda_mgd = float(lambda_mgd)
        if not isinstance(mask_on_channel, bool):
            raise TypeError(f'{type(self).__name__}: `mask_on_channel` must '
                            f'be a bool, but got {mask_on_channel!r}')
        self.mask_on_channel = mask_on_channel
        self.align = nn.Identity() if student_channels == teacher_channels \
            else nn.Conv2d(student_channels, teacher_channels, 1)
        self.generation = nn.Sequential(
            nn.Conv2d(teacher_channels, teacher_channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(teacher_channels, teacher_channels, 3, padding=1))

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Align, mask and regenerate ``feature``."""
        feature = self.align(feature)
        n, c, h, w = feature.shape
        shape = (n, c, 1, 1) if self.mask_on_channel else (n, 1, h, w)
        keep = torch.rand(shape, device=feature.device) >= self.lambda_mgd
        return self.generation(feature * keep.to(feature.dtype))
