# Copyright (c) OpenMMLab. All rights reserved.
"""Hard-label distillation: the student learns the teacher's argmax."""
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmrazor.registry import MODELS

from ._utils import check_loss_weight, check_same_shape


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Cross entropy of the student's logits against the teacher's top
    class (the original MMRazor's ``CrossEntropyLoss``; hard-label
    distillation as in Touvron et al., "Training data-efficient image
    transformers & distillation through attention", ICML 2021).

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = check_loss_weight('CrossEntropyLoss', loss_weight)

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Mean cross entropy of ``preds_S`` (N, C) against
        ``preds_T.argmax(1)``; no gradient reaches the teacher."""
        check_same_shape('CrossEntropyLoss', preds_S, preds_T)
        target = preds_T.detach().argmax(dim=1)
        return self.loss_weight * F.cross_entropy(preds_S, target)
