# Copyright (c) OpenMMLab. All rights reserved.
"""Decoupled knowledge distillation (``DKDLoss``)."""
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmrazor.registry import MODELS
from mmrazor.utils.validators import (
    check_choice,
    check_non_negative,
    check_positive,
)

from ._utils import (
    REDUCTIONS,
    check_loss_weight,
    check_same_shape,
    gt_labels_from,
)


def _kl(log_p_s: Tensor, log_p_t: Tensor) -> Tensor:
    """Element-wise :math:`p^T (\\log p^T - \\log p^S)`, 0 where p^T is 0."""
    return torch.xlogy(log_p_t.exp(), log_p_t.exp()) - log_p_t.exp() * log_p_s


@MODELS.register_module()
class DKDLoss(nn.Module):
    """Decoupled knowledge distillation.

    From `Decoupled Knowledge Distillation
    <https://arxiv.org/abs/2203.08679>`_ (Zhao et al., CVPR 2022). The KD
    loss splits into a target-class part (TCKD), the KL divergence of the
    binary distributions :math:`b = [p_t, 1 - p_t]`, and a non-target part
    (NCKD), the KL divergence of the distributions :math:`\\hat p` renormalised
    over the non-target classes:

    .. math::
        L = \\tau^2 \\big(\\alpha\\,KL(b^T \\| b^S) +
        \\beta\\,KL(\\hat p^T \\| \\hat p^S)\\big)

    Args:
        tau (float): Temperature. Defaults to 4.0.
        alpha (float): Weight of TCKD. Defaults to 1.0.
        beta (float): Weight of NCKD. Defaults to 8.0.
        reduction (str): ``'none'`` (per sample, shape (N,)),
            ``'batchmean'`` (mean over samples), ``'sum'``, or ``'mean'``
            (each KL term divided by its number of elements, 2N and N(C-1)).
            Defaults to ``'batchmean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        teacher_detach (bool): Stop gradients into the teacher logits.
            Defaults to True.
    """

    def __init__(self,
                 tau: float = 4.0,
                 alpha: float = 1.0,
                 beta: float = 8.0,
                 reduction: str = 'batchmean',
                 loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive(name, 'tau', tau)
        check_non_negative(name, 'alpha', alpha)
        check_non_negative(name, 'beta', beta)
        check_choice(name, 'reduction', reduction, REDUCTIONS)
        check_loss_weight(name, loss_weight)
        self.tau = tau
        self.alpha = alpha
        self.beta = beta
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self, preds_S: Tensor, preds_T: Tensor,
                data_samples: Any) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits, shape (N, C), C >= 2.
            preds_T (Tensor): Teacher logits, shape (N, C).
            data_samples (list | Tensor): Data samples with ``gt_label``, or
                a tensor of class indices (N,).

        Returns:
            Tensor: The weighted loss.
        """
        name = type(self).__name__
        check_same_shape(name, preds_S, preds_T)
        if preds_S.dim() != 2 or preds_S.size(1) < 2:
            raise ValueError(f'{name}: preds_S and preds_T must have shape '
                             f'(N, C) with C >= 2, got '
                             f'{tuple(preds_S.shape)}.')
        if self.teacher_detach:
            preds_T = preds_T.detach()
        n, c = preds_S.shape
        labels = gt_labels_from(name, data_samples, n).to(preds_S.device)
        target = F.one_hot(labels, c).bool()

        tckd = _kl(*(self._binary_log_probs(p, target)
                     for p in (preds_S, preds_T)))
        nckd = _kl(*(F.log_softmax(p[~target].view(n, c - 1) / self.tau, 1)
                     for p in (preds_S, preds_T)))
        if self.reduction == 'mean':
            loss = self.alpha * tckd.mean() + self.beta * nckd.mean()
        else:
            loss = self.alpha * tckd.sum(1) + self.beta * nckd.sum(1)
            if self.reduction == 'batchmean':
                loss = loss.mean()
            elif self.reduction == 'sum':
                loss = loss.sum()
        return self.loss_weight * self.tau**2 * loss

    def _binary_log_probs(self, logits: Tensor, target: Tensor) -> Tensor:
        """Log of :math:`[p_t, 1 - p_t]`, shape (N, 2)."""
        log_p = F.log_softmax(logits / self.tau, dim=1)
        log_target = log_p[target]
        log_rest = torch.logsumexp(
            log_p.masked_fill(target, float('-inf')), dim=1)
        return torch.stack([log_target, log_rest], dim=1)
