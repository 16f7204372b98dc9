# Copyright (c) OpenMMLab. All rights reserved.
"""Embedding head of Contrastive Representation Distillation.

Tian et al., "Contrastive Representation Distillation", ICLR 2020.
https://arxiv.org/abs/1910.10699
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_positive_int

from .base_connector import BaseConnector


@MODELS.register_module()
class CRDConnector(BaseConnector):
    """Flatten, project linearly to ``dim_out`` and L2-normalise.

    Args:
        dim_in (int): Size of the flattened input feature. Defaults to 1024.
        dim_out (int): Size of the embedding. Defaults to 128.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 dim_in: int = 1024,
                 dim_out: int = 128,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        check_positive_int(self, 'dim_in', dim_in)
        check_positive_int(self, 'dim_out', dim_out)
        self.linear = nn.Linear(dim_in, dim_out)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Embed ``feature`` of shape ``(N, ...)`` to unit vectors
        ``(N, dim_out)``."""
        feature = feature.flatten(1)
        if feature.size(1) != self.linear.in_features:
            raise ValueError(f'{type(self).__name__}: the flattened feature '
                             f'has {feature.size(1)} values, but `dim_in` is '
                             f'{self.linear.in_features}')
        return F.normalize(self.linear(feature), p=2, dim=1)
