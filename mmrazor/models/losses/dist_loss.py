# Copyright (c) OpenMMLab. All rights reserved.
"""Distillation from a stronger teacher (``DISTLoss``)."""
import torch.nn as nn
from torch import Tensor

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_number, check_positive

from ._utils import check_loss_weight, check_same_shape


def _mean_pearson(a: Tensor, b: Tensor, eps: float = 1e-8) -> Tensor:
    """Mean over rows of the Pearson correlation of rows of ``a`` and
    ``b``."""
    a = a - a.mean(dim=1, keepdim=True)
    b = b - b.mean(dim=1, keepdim=True)
    cos = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)
    return cos.mean()


@MODELS.register_module()
class DISTLoss(nn.Module):
    """Relation-based logit distillation.

    From `Knowledge Distillation from A Stronger Teacher
    <https://arxiv.org/abs/2205.10536>`_ (Huang et al., NeurIPS 2022).
    With :math:`Y = \\mathrm{softmax}(Z / \\tau)` of shape (N, C) and
    :math:`\\rho` the Pearson correlation:

    .. math::
        L = \\tau^2 \\Big(\\beta \\big(1 - \\frac{1}{N}\\sum_i
        \\rho(Y^S_{i,:}, Y^T_{i,:})\\big) + \\gamma \\big(1 - \\frac{1}{C}
        \\sum_j \\rho(Y^S_{:,j}, Y^T_{:,j})\\big)\\Big)

    Args:
        inter_loss_weight (float): :math:`\\beta`, weight of the inter-class
            (per sample) relation. Defaults to 1.0.
        intra_loss_weight (float): :math:`\\gamma`, weight of the intra-class
            (per class) relation. Defaults to 1.0.
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        teacher_detach (bool): Stop gradients into the teacher logits.
            Defaults to True.
    """

    def __init__(self,
                 inter_loss_weight: float = 1.0,
                 intra_loss_weight: float = 1.0,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_number(name, 'inter_loss_weight', inter_loss_weight)
        check_number(name, 'intra_loss_weight', intra_loss_weight)
        check_positive(name, 'tau', tau)
        check_loss_weight(name, loss_weight)
        self.inter_loss_weight = inter_loss_weight
        self.intra_loss_weight = intra_loss_weight
        self.tau = tau
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self, logits_S: Tensor, logits_T: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            logits_S (Tensor): Student logits, shape (N, C).
            logits_T (Tensor): Teacher logits, shape (N, C).

        Returns:
            Tensor: The weighted loss.
        """
        name = type(self).__name__
        check_same_shape(name, logits_S, logits_T, ('logits_S', 'logits_T'))
        if logits_S.dim() != 2:
            raise ValueError(f'{name}: logits_S and logits_T must have shape '
                             f'(N, C), got {tuple(logits_S.shape)}.')
        if self.teacher_detach:
            logits_T = logits_T.detach()
        y_s = (logits_S / self.tau).softmax(dim=1)
        y_t = (logits_T / self.tau).softmax(dim=1)
        inter = 1 - _mean_pearson(y_s, y_t)
        intra = 1 - _mean_pearson(y_s.t(), y_t.t())
        loss = self.inter_loss_weight * inter + self.intra_loss_weight * intra
        return self.loss_weight * self.tau**2 * loss
