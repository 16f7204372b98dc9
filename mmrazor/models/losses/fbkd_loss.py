# Copyright (c) OpenMMLab. All rights reserved.
"""Feature-based distillation with attention and non-local relations
(``FBKDLoss``)."""
import warnings
from typing import Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_non_negative

from ._utils import check_loss_weight, check_same_shape

_S_NAMES = ('s_spatial_mask', 's_channel_mask', 's_channel_pool_adapt',
            's_spatial_pool_adapt', 's_relation_adapt', 's_feat_adapt')
_T_NAMES = ('t_spatial_mask', 't_channel_mask', 't_spatial_pool',
            't_relation', 't_feat')


@MODELS.register_module()
class FBKDLoss(nn.Module):
    """Loss of attention-guided and non-local distillation.

    From `Improve Object Detection with Feature-based Knowledge Distillation:
    Towards Accurate and Efficient Detectors
    <https://openreview.net/forum?id=uKhGRvM8QNH>`_ (Zhang & Ma, ICLR 2021).
    With :math:`A^s = (A^s_S + A^s_T)/2` the mean spatial attention mask
    (no gradient):

    .. math::
        L = w_{m}\\sqrt{\\sum A^s (F^T - a(F^S))^2}
        + w_c\\|\\bar F^T - a_c(S)\\|_2 + w_s\\|P^T - a_s(S)\\|_2
        + w_{nl}\\|R^T - a_r(R^S)\\|_2

    where :math:`\\bar F^T` is the teacher feature averaged over space,
    :math:`P^T` the teacher spatial pool and :math:`R` the non-local
    relation maps; the adapted student terms come from
    ``FBKDStudentConnector`` and the teacher terms from
    ``FBKDTeacherConnector``. Nothing is detached except the mask: the
    teacher connector's non-local and attention layers learn from this loss.

    Args:
        mask_l2_weight (float): :math:`w_m`. Defaults to 7e-5.
        channel_weight (float): :math:`w_c`. Defaults to 4e-3.
        spatial_weight (float): :math:`w_s`. Defaults to 4e-3.
        nonlocal_weight (float): :math:`w_{nl}`. Defaults to 7e-5.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        nonloacl_weight (float, optional): Deprecated misspelling of
            ``nonlocal_weight`` used by the original configs; overrides it
            with a warning. Defaults to None.
    """

    def __init__(self,
                 mask_l2_weight: float = 7e-5,
                 channel_weight: float = 4e-3,
                 spatial_weight: float = 4e-3,
                 nonlocal_weight: float = 7e-5,
                 loss_weight: float = 1.0,
                 nonloacl_weight: Optional[float] = None) -> None:
        super().__init__()
        name = type(self).__name__
        if nonloacl_weight is not None:
            warnings.warn(f'{name}: nonloacl_weight is deprecated, use '
                          'nonlocal_weight.', stacklevel=2)
            nonlocal_weight = nonloacl_weight
        for field, value in (('mask_l2_weight', mask_l2_weight),
                             ('channel_weight', channel_weight),
                             ('spatial_weight', spatial_weight),
                             ('nonlocal_weight', nonlocal_weight)):
            check_non_negative(name, field, value)
        check_loss_weight(name, loss_weight)
        self.mask_l2_weight = mask_l2_weight
        self.channel_weight = channel_weight
        self.spatial_weight = spatial_weight
        self.nonlocal_weight = nonlocal_weight
        self.loss_weight = loss_weight

    def forward(self, s_input: Sequence[Tensor],
                t_input: Sequence[Tensor]) -> Tensor:
        """Compute the loss.

        Args:
            s_input (Sequence[Tensor]): The six outputs of
                ``FBKDStudentConnector``: spatial mask, channel mask,
                adapted channel pool, adapted spatial pool, adapted relation
                and adapted feature.
            t_input (Sequence[Tensor]): The five outputs of
                ``FBKDTeacherConnector``: spatial mask, channel mask, spatial
                pool, relation and feature.

        Returns:
            Tensor: The weighted loss.
        """
        name = type(self).__name__
        for arg, value, names in (('s_input', s_input, _S_NAMES),
                                  ('t_input', t_input, _T_NAMES)):
            if len(value) != len(names):
                raise ValueError(f'{name}: {arg} must hold {len(names)} '
                                 f'tensors {names}, got {len(value)}.')
        s_mask, _, s_channel, s_spatial, s_relation, s_feat = s_input
        t_mask, _, t_spatial, t_relation, t_feat = t_input
        t_channel = t_feat.mean(dim=(2, 3))
        for s, t, names in ((s_feat, t_feat, (_S_NAMES[5], _T_NAMES[4])),
                            (s_channel, t_channel,
                             (_S_NAMES[2], 'mean of t_feat')),
                            (s_spatial, t_spatial, (_S_NAMES[3], _T_NAMES[2])),
                            (s_relation, t_relation,
                             (_S_NAMES[4], _T_NAMES[3]))):
            check_same_shape(name, s, t, names)
        spatial_mask = ((s_mask + t_mask) / 2).detach()
        feat_loss = ((t_feat - s_feat).pow(2) * spatial_mask).sum().sqrt()
        loss = (self.mask_l2_weight * feat_loss +
                self.channel_weight * torch.dist(t_channel, s_channel) +
                self.spatial_weight * torch.dist(t_spatial, s_spatial) +
                self.nonlocal_weight * torch.dist(t_relation, s_relation))
        return self.loss_weight * loss
