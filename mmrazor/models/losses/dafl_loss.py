# Copyright (c) OpenMMLab. All rights reserved.
"""Losses of data-free learning (DAFL) that train a generator against a
teacher: ``OnehotLikeLoss``, ``InformationEntropyLoss`` and
``ActivationLoss``."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_dist_info
from torch import Tensor

from mmrazor.models.architectures.ops.gather_tensors import GatherTensors
from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_choice

from ._utils import check_loss_weight


@MODELS.register_module()
class OnehotLikeLoss(nn.Module):
    """Push the teacher's outputs on generated images towards one-hot.

    The :math:`L_{oh}` term of DAFL, from `Data-Free Learning of Student
    Networks <https://arxiv.org/abs/1904.01186>`_ (Chen et al., ICCV 2019):

    .. math::
        L_{oh} = \\frac{1}{N}\\sum_i CE(z^T_i, \\arg\\max_c z^T_{ic})

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        check_loss_weight(type(self).__name__, loss_weight)
        self.loss_weight = loss_weight

    def forward(self, preds_T: Tensor) -> Tensor:
        """Compute the loss on teacher logits of shape (N, C)."""
        pseudo_label = preds_T.detach().argmax(dim=1)
        return self.loss_weight * F.cross_entropy(preds_T, pseudo_label)


@MODELS.register_module()
class InformationEntropyLoss(nn.Module):
    """Balance the classes the generator produces.

    The :math:`L_{ie}` term of DAFL, from `Data-Free Learning of Student
    Networks <https://arxiv.org/abs/1904.01186>`_ (Chen et al., ICCV 2019);
    it is the negative entropy (base 10) of the mean predicted distribution:

    .. math::
        \\bar p = \\frac{1}{N}\\sum_i \\mathrm{softmax}(z^T_i),\\quad
        L_{ie} = \\sum_c \\bar p_c \\log_{10} \\bar p_c

    Args:
        gather (bool): Under distributed training, average over the batches
            of all ranks (gradients flow back to each rank's slice).
            Defaults to True.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, gather: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        check_loss_weight(type(self).__name__, loss_weight)
        self.gather = gather
        self.loss_weight = loss_weight

    def forward(self, preds_T: Tensor) -> Tensor:
        """Compute the loss on teacher logits of shape (N, C)."""
        if self.gather and get_dist_info()[1] > 1:
            preds_T = torch.cat(GatherTensors.apply(preds_T), dim=0)
        mean_prob = F.softmax(preds_T, dim=1).mean(dim=0)
        loss = (mean_prob * torch.log10(mean_prob)).sum()
        return self.loss_weight * loss


@MODELS.register_module()
class ActivationLoss(nn.Module):
    """Encourage large teacher activations on generated images.

    The :math:`L_a` term of DAFL, from `Data-Free Learning of Student
    Networks <https://arxiv.org/abs/1904.01186>`_ (Chen et al., ICCV 2019),
    on the teacher feature :math:`f^T` of shape (N, ...):

    .. math::
        L_a = -\\frac{1}{|f^T|}\\sum |f^T| \\;(\\text{'abs'}),\\qquad
        L_a = -\\|f^T\\|_F \\;(\\text{'norm'})

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        norm_type (str): ``'abs'`` (mean absolute value, the paper's L1
            form) or ``'norm'`` (Frobenius norm). Defaults to ``'abs'``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 norm_type: str = 'abs') -> None:
        super().__init__()
        name = type(self).__name__
        check_loss_weight(name, loss_weight)
        check_choice(name, 'norm_type', norm_type, ('abs', 'norm'))
        self.loss_weight = loss_weight
        self.norm_type = norm_type

    def forward(self, feat_T: Tensor) -> Tensor:
        """Compute the loss on a teacher feature."""
        if self.norm_type == 'abs':
            loss = -feat_T.abs().mean()
        else:
            loss = -feat_T.norm()
        return self.loss_weight * loss
