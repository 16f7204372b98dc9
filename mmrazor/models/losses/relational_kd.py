# Copyright (c) OpenMMLab. All rights reserved.
"""Relational knowledge distillation: ``DistanceWiseRKD`` and
``AngleWiseRKD``."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmrazor.registry import MODELS

from ._utils import check_loss_weight, check_same_shape


def _flatten(preds: Tensor, with_l2_norm: bool) -> Tensor:
    preds = preds.flatten(1)
    return F.normalize(preds, p=2, dim=1) if with_l2_norm else preds


def _distance_potential(x: Tensor, eps: float = 1e-12) -> Tensor:
    """Pairwise distances divided by their mean over pairs i != j."""
    sq = x.pow(2).sum(dim=1)
    dist = (sq.unsqueeze(0) + sq.unsqueeze(1) - 2 * x @ x.t()).clamp(min=eps)
    dist = dist.sqrt() * (1 - torch.eye(len(x), dtype=x.dtype,
                                        device=x.device))
    mean = dist.sum() / (len(x) * (len(x) - 1))
    return dist / mean


def _angle_potential(x: Tensor) -> Tensor:
    """Cosines cos(x_i - x_j, x_k - x_j) for all (j, i, k), shape (N, N,
    N)."""
    diff = F.normalize(x.unsqueeze(0) - x.unsqueeze(1), p=2, dim=2)
    return diff @ diff.transpose(1, 2)


class _RKD(nn.Module):
    """Shared arguments and checks of the two RKD potentials."""

    def __init__(self, loss_weight: float, with_l2_norm: bool,
                 teacher_detach: bool) -> None:
        super().__init__()
        check_loss_weight(type(self).__name__, loss_weight)
        self.loss_weight = loss_weight
        self.with_l2_norm = with_l2_norm
        self.teacher_detach = teacher_detach

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student embeddings, shape (N, ...), N >= 2.
            preds_T (Tensor): Teacher embeddings, shape (N, ...); only the
                batch size must match the student.

        Returns:
            Tensor: The weighted loss.
        """
        name = type(self).__name__
        check_same_shape(name, preds_S, preds_T, dims=slice(0, 1))
        if preds_S.size(0) < 2:
            raise ValueError(f'{name}: needs a batch of at least 2 samples, '
                             f'got preds_S {tuple(preds_S.shape)}.')
        if self.teacher_detach:
            preds_T = preds_T.detach()
        pot_s = self.potential(_flatten(preds_S, self.with_l2_norm))
        pot_t = self.potential(_flatten(preds_T, self.with_l2_norm))
        return self.loss_weight * F.smooth_l1_loss(pot_s, pot_t)


@MODELS.register_module()
class DistanceWiseRKD(_RKD):
    """Distance-wise relational knowledge distillation.

    From `Relational Knowledge Distillation
    <https://arxiv.org/abs/1904.05068>`_ (Park et al., CVPR 2019). With
    :math:`\\psi_D(t_i, t_j) = \\|t_i - t_j\\|_2 / \\mu`, :math:`\\mu` the mean
    distance over pairs :math:`i \\ne j`, and :math:`l_\\delta` the Huber
    (smooth L1) loss:

    .. math::
        L = \\frac{1}{N^2}\\sum_{i, j} l_\\delta(\\psi_D(s_i, s_j),
        \\psi_D(t_i, t_j))

    Args:
        loss_weight (float): Weight of the loss. Defaults to 25.0.
        with_l2_norm (bool): L2-normalise each flattened embedding first.
            Defaults to True.
        teacher_detach (bool): Stop gradients into the teacher embedding.
            Defaults to True.
    """

    def __init__(self,
                 loss_weight: float = 25.0,
                 with_l2_norm: bool = True,
                 teacher_detach: bool = True) -> None:
        super().__init__(loss_weight, with_l2_norm, teacher_detach)

    @staticmethod
    def potential(x: Tensor) -> Tensor:
        """Normalised pairwise distances, shape (N, N)."""
        return _distance_potential(x)


@MODELS.register_module()
class AngleWiseRKD(_RKD):
    """Angle-wise relational knowledge distillation.

    From `Relational Knowledge Distillation
    <https://arxiv.org/abs/1904.05068>`_ (Park et al., CVPR 2019). With
    :math:`\\psi_A(t_i, t_j, t_k) = \\cos\\angle t_i t_j t_k =
    \\langle e^{ij}, e^{kj} \\rangle`, :math:`e^{ij} = (t_i - t_j) /
    \\|t_i - t_j\\|_2` (0 when :math:`i = j`):

    .. math::
        L = \\frac{1}{N^3}\\sum_{i, j, k} l_\\delta(\\psi_A(s_i, s_j, s_k),
        \\psi_A(t_i, t_j, t_k))

    Args:
        loss_weight (float): Weight of the loss. Defaults to 50.0.
        with_l2_norm (bool): L2-normalise each flattened embedding first.
            Defaults to True.
        teacher_detach (bool): Stop gradients into the teacher embedding.
            Defaults to True.
    """

    def __init__(self,
                 loss_weight: float = 50.0,
                 with_l2_norm: bool = True,
                 teacher_detach: bool = True) -> None:
        super().__init__(loss_weight, with_l2_norm, teacher_detach)

    @staticmethod
    def potential(x: Tensor) -> Tensor:
        """Cosines of all angles, shape (N, N, N)."""
        return _angle_potential(x)
