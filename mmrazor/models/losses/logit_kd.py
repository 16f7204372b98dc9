# Copyright (c) OpenMMLab. All rights reserved.
"""Soft-label distillation of logits: ``KLDivergence``, ``KDSoftCELoss`` and
``WSLD``."""
from typing import Any, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_choice, check_positive

from ._utils import (
    REDUCTIONS,
    check_loss_weight,
    check_same_shape,
    gt_labels_from,
    reduce_loss,
)


@MODELS.register_module()
class KLDivergence(nn.Module):
    """KL divergence between temperature-softened class distributions.

    From `Distilling the Knowledge in a Neural Network
    <https://arxiv.org/abs/1503.02531>`_ (Hinton et al., 2015):

    .. math::
        L = \\tau^2 \\sum_c p^T_c (\\log p^T_c - \\log p^S_c),\\quad
        p = \\mathrm{softmax}(z / \\tau)

    The :math:`\\tau^2` factor keeps gradient magnitudes independent of the
    temperature.

    Args:
        tau (float): Temperature. Defaults to 1.0.
        reduction (str): ``'none'`` (per element, shape (N, C)),
            ``'batchmean'`` (sum / N), ``'sum'`` or ``'mean'`` (sum / N*C).
            Defaults to ``'batchmean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        teacher_detach (bool): Stop gradients into the teacher logits.
            Defaults to True.

    Examples:
        >>> loss = KLDivergence(tau=4.0)
        >>> loss(torch.randn(2, 5), torch.randn(2, 5)).shape
        torch.Size([])
    """

    def __init__(self,
                 tau: float = 1.0,
                 reduction: str = 'batchmean',
                 loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive(name, 'tau', tau)
        check_choice(name, 'reduction', reduction, REDUCTIONS)
        check_loss_weight(name, loss_weight)
        self.tau = tau
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits, shape (N, C).
            preds_T (Tensor): Teacher logits, shape (N, C).

        Returns:
            Tensor: The weighted loss, reduced as ``reduction`` says.
        """
        check_same_shape(type(self).__name__, preds_S, preds_T)
        if self.teacher_detach:
            preds_T = preds_T.detach()
        log_p_s = F.log_softmax(preds_S / self.tau, dim=1)
        log_p_t = F.log_softmax(preds_T / self.tau, dim=1)
        kl = log_p_t.exp() * (log_p_t - log_p_s)
        loss = reduce_loss(type(self).__name__, kl, self.reduction)
        return self.loss_weight * self.tau**2 * loss


@MODELS.register_module()
class KDSoftCELoss(nn.Module):
    """Cross entropy of the student against the teacher's soft labels.

    The soft-target objective of `Distilling the Knowledge in a Neural
    Network <https://arxiv.org/abs/1503.02531>`_ (Hinton et al., 2015),
    written as a cross entropy (it differs from ``KLDivergence`` by the
    teacher entropy, a constant for the student):

    .. math::
        L_i = -\\tau^2 \\sum_c p^T_{ic} \\log p^S_{ic}

    Args:
        tau (float): Temperature. Defaults to 1.0.
        reduction (str): ``'none'`` (per sample, shape (N,)), ``'sum'`` or
            ``'mean'`` (over samples, or over ``avg_factor``).
            Defaults to ``'mean'``.
        mult_tem_square (bool): Multiply the loss by :math:`\\tau^2`.
            Defaults to True.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        teacher_detach (bool): Stop gradients into the teacher logits.
            Defaults to True.
    """

    REDUCTIONS = ('none', 'mean', 'sum')

    def __init__(self,
                 tau: float = 1.0,
                 reduction: str = 'mean',
                 mult_tem_square: bool = True,
                 loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive(name, 'tau', tau)
        check_choice(name, 'reduction', reduction, self.REDUCTIONS)
        check_loss_weight(name, loss_weight)
        self.tau = tau
        self.reduction = reduction
        self.mult_tem_square = mult_tem_square
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self,
                preds_S: Tensor,
                preds_T: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits, shape (N, C).
            preds_T (Tensor): Teacher logits, shape (N, C).
            weight (Tensor, optional): Per-sample weights, shape (N,).
                Defaults to None.
            avg_factor (float, optional): Divide the summed loss by this
                instead of N when reducing with ``'mean'``. Defaults to None.
            reduction_override (str, optional): Use this reduction instead
                of ``reduction``. Defaults to None.

        Returns:
            Tensor: The weighted loss.
        """
        name = type(self).__name__
        reduction = reduction_override or self.reduction
        check_choice(name, 'reduction_override', reduction, self.REDUCTIONS)
        check_same_shape(name, preds_S, preds_T)
        if self.teacher_detach:
            preds_T = preds_T.detach()
        soft_label = F.softmax(preds_T / self.tau, dim=-1)
        loss = -(soft_label * F.log_softmax(preds_S / self.tau, dim=-1))
        loss = loss.sum(dim=-1)
        if weight is not None:
            if weight.numel() != loss.numel():
                raise ValueError(
                    f'{name}: weight must hold one value per sample, got '
                    f'shape {tuple(weight.shape)} for a batch of '
                    f'{loss.numel()}.')
            loss = loss * weight.reshape(loss.shape).to(loss.dtype)
        if reduction == 'sum':
            loss = loss.sum()
        elif reduction == 'mean':
            loss = loss.sum() / (loss.numel()
                                 if avg_factor is None else avg_factor)
        if self.mult_tem_square:
            loss = loss * self.tau**2
        return self.loss_weight * loss


@MODELS.register_module()
class WSLD(nn.Module):
    """Weighted soft-label distillation.

    From `Rethinking Soft Labels for Knowledge Distillation: A Bias-Variance
    Tradeoff Perspective <https://arxiv.org/abs/2102.00650>`_ (Zhou et al.,
    ICLR 2021). Each sample's soft cross entropy is weighted by how much
    worse the student fits the ground truth than the teacher:

    .. math::
        w_i = 1 - \\exp\\Big(-\\max\\big(0, \\frac{CE(y_i, p^S_i)}
        {CE(y_i, p^T_i)}\\big)\\Big),\\quad
        L = \\tau^2\\,\\frac{1}{N}\\sum_i w_i
        \\Big(-\\sum_c p^{T,\\tau}_{ic}\\log p^{S,\\tau}_{ic}\\Big)

    where the hard cross entropies use temperature 1 and no gradient.

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        num_classes (int): Number of classes; the logits must have this many
            columns. Defaults to 1000.
        teacher_detach (bool): Stop gradients into the teacher logits.
            Defaults to True.
    """

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 num_classes: int = 1000,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive(name, 'tau', tau)
        check_loss_weight(name, loss_weight)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) \
                or num_classes < 1:
            raise ValueError(f'{name}: num_classes must be an int >= 1, got '
                             f'{num_classes!r}.')
        self.tau = tau
        self.loss_weight = loss_weight
        self.num_classes = num_classes
        self.teacher_detach = teacher_detach

    def forward(self, student: Tensor, teacher: Tensor,
                data_samples: Any) -> Tensor:
        """Compute the loss.

        Args:
            student (Tensor): Student logits, shape (N, num_classes).
            teacher (Tensor): Teacher logits, shape (N, num_classes).
            data_samples (list | Tensor): Data samples with ``gt_label``, or
                a tensor of class indices (N,).

        Returns:
            Tensor: The weighted loss.
        """
        name = type(self).__name__
        check_same_shape(name, student, teacher, ('student', 'teacher'))
        if student.dim() != 2 or student.size(1) != self.num_classes:
            raise ValueError(f'{name}: student and teacher must have shape '
                             f'(N, num_classes={self.num_classes}), got '
                             f'{tuple(student.shape)}.')
        labels = gt_labels_from(name, data_samples, student.size(0))
        labels = labels.to(student.device)
        if self.teacher_detach:
            teacher = teacher.detach()
        soft_t = F.softmax(teacher / self.tau, dim=1)
        soft_ce = -(soft_t * F.log_softmax(student / self.tau, dim=1)).sum(1)
        with torch.no_grad():
            ce_s = F.cross_entropy(student, labels, reduction='none')
            ce_t = F.cross_entropy(teacher, labels, reduction='none')
            ratio = (ce_s / (ce_t + 1e-7)).clamp(min=0)
            weight = 1 - torch.exp(-ratio)
        loss = self.tau**2 * (weight * soft_ce).mean()
        return self.loss_weight * loss
