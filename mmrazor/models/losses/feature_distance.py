# Copyright (c) OpenMMLab. All rights reserved.
"""Feature imitation by distance: ``L1Loss``, ``L2Loss``, ``PKDLoss``,
``MGDLoss`` and ``OFDLoss``."""
from typing import Optional, Sequence, Tuple, Union

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_choice, check_positive

from ._utils import check_loss_weight, check_ndim, check_same_shape

Features = Union[Tensor, Sequence[Tensor]]


@MODELS.register_module()
class L1Loss(nn.Module):
    """Mean absolute error between student and teacher features.

    .. math::
        L = \\frac{1}{|F|}\\sum |F^S - F^T|

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        size_average (bool, optional): Deprecated torch argument, kept so
            old configs build; when it or ``reduce`` is set it overrides
            ``reduction`` the way ``torch.nn.L1Loss`` does. Defaults to None.
        reduce (bool, optional): Deprecated torch argument, see
            ``size_average``. Defaults to None.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        teacher_detach (bool): Stop gradients into the teacher feature.
            Defaults to True.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 size_average: Optional[bool] = None,
                 reduce: Optional[bool] = None,
                 reduction: str = 'mean',
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_loss_weight(name, loss_weight)
        check_choice(name, 'reduction', reduction, ('none', 'mean', 'sum'))
        if size_average is not None or reduce is not None:
            if reduce is False:
                reduction = 'none'
            else:
                reduction = 'sum' if size_average is False else 'mean'
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.teacher_detach = teacher_detach

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Compute the loss on two features of the same shape."""
        check_same_shape(
            type(self).__name__, s_feature, t_feature,
            ('s_feature', 't_feature'))
        if self.teacher_detach:
            t_feature = t_feature.detach()
        loss = F.l1_loss(s_feature, t_feature, reduction=self.reduction)
        return self.loss_weight * loss


@MODELS.register_module()
class L2Loss(nn.Module):
    """Squared L2 distance between (optionally normalised) features.

    The hint loss of `FitNets: Hints for Thin Deep Nets
    <https://arxiv.org/abs/1412.6550>`_ (Romero et al., ICLR 2015). With
    :math:`\\bar F_i = m \\cdot F_i / \\|F_i\\|_2` per flattened sample when
    ``normalize`` (else :math:`\\bar F = F`) and
    :math:`D = \\sum (\\bar F^S - \\bar F^T)^2`:
    :math:`L = \\sqrt{D}` when ``dist``, else :math:`D / |F|` when
    ``div_element``, else :math:`D / N`.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        normalize (bool): L2-normalise each flattened sample first.
            Defaults to True.
        mult (float): Scale :math:`m` of the normalised features.
            Defaults to 1.0.
        div_element (bool): Divide by the number of elements instead of the
            batch size. Defaults to False.
        dist (bool): Return the L2 distance (square root of the sum).
            Defaults to False.
        teacher_detach (bool): Stop gradients into the teacher feature.
            Defaults to True.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 normalize: bool = True,
                 mult: float = 1.0,
                 div_element: bool = False,
                 dist: bool = False,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_loss_weight(name, loss_weight)
        check_positive(name, 'mult', mult)
        self.loss_weight = loss_weight
        self.normalize = normalize
        self.mult = mult
        self.div_element = div_element
        self.dist = dist
        self.teacher_detach = teacher_detach

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Compute the loss on features of shape (N, ...), same shape."""
        check_same_shape(
            type(self).__name__, s_feature, t_feature,
            ('s_feature', 't_feature'))
        if self.teacher_detach:
            t_feature = t_feature.detach()
        if self.normalize:
            s_feature = self._normalize(s_feature)
            t_feature = self._normalize(t_feature)
        loss = (s_feature - t_feature).pow(2).sum()
        if self.dist:
            loss = loss.sqrt()
        elif self.div_element:
            loss = loss / s_feature.numel()
        else:
            loss = loss / s_feature.size(0)
        return self.loss_weight * loss

    def _normalize(self, feature: Tensor) -> Tensor:
        flat = feature.flatten(1)
        return self.mult * flat / flat.norm(p=2, dim=1, keepdim=True)


def _pairs(owner: str, preds_S: Features,
           preds_T: Features) -> Tuple[Tuple[Tensor, Tensor], ...]:
    """Pair up single tensors or equally long sequences of tensors."""
    if isinstance(preds_S, Tensor) != isinstance(preds_T, Tensor):
        raise ValueError(f'{owner}: preds_S and preds_T must both be tensors '
                         f'or both be sequences, got {type(preds_S).__name__}'
                         f' and {type(preds_T).__name__}.')
    if isinstance(preds_S, Tensor):
        return ((preds_S, preds_T), )
    if len(preds_S) != len(preds_T):
        raise ValueError(f'{owner}: preds_S and preds_T must hold the same '
                         f'number of features, got {len(preds_S)} and '
                         f'{len(preds_T)}.')
    return tuple(zip(preds_S, preds_T))


@MODELS.register_module()
class PKDLoss(nn.Module):
    """Pearson-correlation feature imitation.

    From `PKD: General Distillation Framework for Object Detectors via
    Pearson Correlation Coefficient <https://arxiv.org/abs/2207.02039>`_
    (Cao et al., NeurIPS 2022). Each channel is standardised over the batch
    and spatial positions, :math:`\\hat F = (F - \\mu_c) / (\\sigma_c +
    10^{-6})` (unbiased :math:`\\sigma`), then

    .. math::
        L = \\sum_{\\text{levels}} \\frac{1}{2|F|}
        \\sum (\\hat F^S - \\hat F^T)^2

    which equals :math:`1 - r` per channel up to the ``N*H*W`` factor, with
    :math:`r` the Pearson correlation.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        resize_stu (bool): When spatial sizes differ, resize the student to
            the teacher (True) or the teacher to the student (False),
            bilinearly. Defaults to True.
        teacher_detach (bool): Stop gradients into the teacher feature.
            Defaults to True.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 resize_stu: bool = True,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        check_loss_weight(type(self).__name__, loss_weight)
        self.loss_weight = loss_weight
        self.resize_stu = resize_stu
        self.teacher_detach = teacher_detach

    def forward(self, preds_S: Features, preds_T: Features) -> Tensor:
        """Compute the loss on one (N, C, H, W) feature or a sequence."""
        name = type(self).__name__
        loss = 0.
        for pred_S, pred_T in _pairs(name, preds_S, preds_T):
            check_ndim(name, 'preds_S', pred_S, (4, ))
            check_ndim(name, 'preds_T', pred_T, (4, ))
            check_same_shape(name, pred_S, pred_T, dims=slice(0, 2))
            if self.teacher_detach:
                pred_T = pred_T.detach()
            if pred_S.shape[2:] != pred_T.shape[2:]:
                if self.resize_stu:
                    pred_S = F.interpolate(
                        pred_S, pred_T.shape[2:], mode='bilinear')
                else:
                    pred_T = F.interpolate(
                        pred_T, pred_S.shape[2:], mode='bilinear')
            diff = self._standardize(pred_S) - self._standardize(pred_T)
            loss = loss + diff.pow(2).mean() / 2
        return self.loss_weight * loss

    @staticmethod
    def _standardize(feat: Tensor) -> Tensor:
        dims = (0, 2, 3)
        mean = feat.mean(dim=dims, keepdim=True)
        std = feat.std(dim=dims, keepdim=True)
        return (feat - mean) / (std + 1e-6)


@MODELS.register_module()
class MGDLoss(nn.Module):
    """Feature distance of masked generative distillation.

    From `Masked Generative Distillation <https://arxiv.org/abs/2205.01529>`_
    (Yang et al., ECCV 2022). The masking and generation of the student
    feature happen in ``MGDConnector``; the loss is

    .. math::
        L = \\alpha_{mgd} \\frac{1}{N} \\sum (G(F^S) - F^T)^2

    Args:
        alpha_mgd (float): :math:`\\alpha_{mgd}`. Defaults to 2e-5.
        loss_weight (float): Extra weight of the loss. Defaults to 1.0.
        teacher_detach (bool): Stop gradients into the teacher feature.
            Defaults to True.
    """

    def __init__(self,
                 alpha_mgd: float = 0.00002,
                 loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive(name, 'alpha_mgd', alpha_mgd)
        check_loss_weight(name, loss_weight)
        self.alpha_mgd = alpha_mgd
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Compute the loss on two (N, C, H, W) features of one shape."""
        check_same_shape(type(self).__name__, preds_S, preds_T)
        if self.teacher_detach:
            preds_T = preds_T.detach()
        loss = (preds_S - preds_T).pow(2).sum() / preds_T.size(0)
        return self.loss_weight * self.alpha_mgd * loss


@MODELS.register_module()
class OFDLoss(nn.Module):
    """Partial L2 distance of overhaul feature distillation.

    From `A Comprehensive Overhaul of Feature Distillation
    <https://arxiv.org/abs/1904.01866>`_ (Heo et al., ICCV 2019). The
    teacher feature is taken before its ReLU (after the margin connector);
    positions where the student is already below a negative teacher value
    are skipped:

    .. math::
        L = \\frac{1}{N \\cdot k}\\sum (F^S - F^T)^2\\,
        [F^S > F^T \\lor F^T > 0]

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        mul_factor (float): The divisor :math:`k`. Defaults to 1000.
        teacher_detach (bool): Stop gradients into the teacher feature.
            Defaults to True.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 mul_factor: float = 1000.,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_loss_weight(name, loss_weight)
        check_positive(name, 'mul_factor', mul_factor)
        self.loss_weight = loss_weight
        self.mul_factor = mul_factor
        self.teacher_detach = teacher_detach

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Compute the loss on two features of the same shape."""
        check_same_shape(
            type(self).__name__, s_feature, t_feature,
            ('s_feature', 't_feature'))
        if self.teacher_detach:
            t_feature = t_feature.detach()
        keep = (s_feature > t_feature) | (t_feature > 0)
        loss = ((s_feature - t_feature).pow(2) * keep).sum()
        loss = loss / s_feature.size(0) / self.mul_factor
        return self.loss_weight * loss
