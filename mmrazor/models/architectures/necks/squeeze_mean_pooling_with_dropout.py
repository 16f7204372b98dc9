# Copyright (c) OpenMMLab. All rights reserved.
"""Global mean pooling to (N, C), then dropout."""
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmrazor.registry import MODELS


@MODELS.register_module()
class SqueezeMeanPoolingWithDropout(BaseModule):
    """Average every feature map over its spatial dimensions, then drop out.

    The neck of the AttentiveNAS classifiers: (N, C, H, W) or (N, C, 1, 1)
    features become (N, C); dropout (``drop_ratio``) applies in training.

    Args:
        drop_ratio (float): Dropout probability. Defaults to 0.2.

    Examples:
        >>> neck = SqueezeMeanPoolingWithDropout(0.2).eval()
        >>> neck((torch.rand(2, 8, 3, 3), ))[0].shape
        torch.Size([2, 8])
    """

    def __init__(self, drop_ratio: float = 0.2) -> None:
        super().__init__()
        if not 0 <= drop_ratio < 1:
            raise ValueError('SqueezeMeanPoolingWithDropout: `drop_ratio` '
                             f'must be in [0, 1), but got {drop_ratio!r}')
        self.drop_ratio = drop_ratio

    def _reduce(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2:
            raise ValueError('SqueezeMeanPoolingWithDropout needs (N, C, ...)'
                             f' features, but got shape {tuple(x.shape)}')
        if x.dim() > 2:
            x = x.flatten(2).mean(dim=2)
        return F.dropout(x, self.drop_ratio, self.training) \
            if self.drop_ratio > 0 else x

    def forward(self, inputs: Union[Tuple, torch.Tensor]
                ) -> Union[Tuple, torch.Tensor]:
        """Reduce each tensor (of a tuple, or a single one)."""
        if isinstance(inputs, tuple):
            return tuple(self._reduce(x) for x in inputs)
        return self._reduce(inputs)
