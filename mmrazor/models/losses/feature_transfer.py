# Copyright (c) OpenMMLab. All rights reserved.
"""Feature distillation on transformed maps: ``ATLoss``, ``FTLoss``,
``ABLoss`` and ``ChannelWiseDivergence``."""
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_non_negative, check_positive

from ._utils import check_loss_weight, check_ndim, check_same_shape

_FEATS = ('s_feature', 't_feature')


@MODELS.register_module()
class ATLoss(nn.Module):
    """Attention transfer.

    From `Paying More Attention to Attention
    <https://arxiv.org/abs/1612.03928>`_ (Zagoruyko & Komodakis, ICLR 2017).
    The spatial attention map of a feature (N, C, H, W) is
    :math:`Q = \\mathrm{vec}(\\frac{1}{C}\\sum_c F_c^2)`, L2-normalised per
    sample; the loss is the mean squared difference of the two maps:

    .. math::
        L = \\frac{1}{N H W}\\sum_i \\big\\| \\frac{Q^S_i}{\\|Q^S_i\\|} -
        \\frac{Q^T_i}{\\|Q^T_i\\|} \\big\\|_2^2

    Channels may differ between student and teacher.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        teacher_detach (bool): Stop gradients into the teacher feature.
            Defaults to True.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        check_loss_weight(type(self).__name__, loss_weight)
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Compute the loss on (N, C, H, W) features with one N, H, W."""
        name = type(self).__name__
        check_ndim(name, 's_feature', s_feature, (4, ))
        check_ndim(name, 't_feature', t_feature, (4, ))
        check_same_shape(name, s_feature[:, :1], t_feature[:, :1], _FEATS)
        if self.teacher_detach:
            t_feature = t_feature.detach()
        diff = self._attention(s_feature) - self._attention(t_feature)
        return self.loss_weight * diff.pow(2).mean()

    @staticmethod
    def _attention(x: Tensor) -> Tensor:
        return F.normalize(x.pow(2).mean(dim=1).flatten(1), dim=1)


@MODELS.register_module()
class FTLoss(nn.Module):
    """Factor transfer.

    From `Paraphrasing Complex Network: Network Compression via Factor
    Transfer <https://arxiv.org/abs/1802.04977>`_ (Kim et al., NeurIPS 2018).
    The factors (outputs of the ``Paraphraser`` and ``Translator``
    connectors) are L2-normalised per sample and compared with L1:

    .. math::
        L = \\frac{1}{|F|}\\sum_i \\big| \\frac{F^S_i}{\\|F^S_i\\|_2} -
        \\frac{F^T_i}{\\|F^T_i\\|_2} \\big|

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        teacher_detach (bool): Stop gradients into the teacher factor.
            Defaults to True.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        check_loss_weight(type(self).__name__, loss_weight)
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Compute the loss on two factors of the same shape."""
        check_same_shape(type(self).__name__, s_feature, t_feature, _FEATS)
        if self.teacher_detach:
            t_feature = t_feature.detach()
        factor_s = F.normalize(s_feature.flatten(1), dim=1)
        factor_t = F.normalize(t_feature.flatten(1), dim=1)
        return self.loss_weight * (factor_s - factor_t).abs().mean()


@MODELS.register_module()
class ABLoss(nn.Module):
    """Activation-boundary loss.

    From `Knowledge Transfer via Distillation of Activation Boundaries Formed
    by Hidden Neurons <https://arxiv.org/abs/1811.03233>`_ (Heo et al., AAAI
    2019). The student's pre-activation is pushed beyond a margin :math:`m`
    on the side where the teacher neuron is active or inactive:

    .. math::
        L = \\frac{3}{1000 N}\\sum \\big((s + m)^2 [s > -m][t \\le 0] +
        (s - m)^2 [s \\le m][t > 0]\\big)

    The :math:`3/1000` scale keeps the loss magnitude of the configs of the
    original MMRazor.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        margin (float): The margin :math:`m`. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0, margin: float = 1.0) -> None:
        super().__init__()
        name = type(self).__name__
        check_loss_weight(name, loss_weight)
        check_non_negative(name, 'margin', margin)
        self.loss_weight = loss_weight
        self.margin = margin

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Compute the loss on two features of the same shape.

        Only the sign of the teacher feature is used, so no gradient ever
        reaches it.
        """
        check_same_shape(type(self).__name__, s_feature, t_feature, _FEATS)
        t_active = t_feature.detach() > 0
        m = self.margin
        push_down = (s_feature + m).pow(2) * ((s_feature > -m) & ~t_active)
        push_up = (s_feature - m).pow(2) * ((s_feature <= m) & t_active)
        loss = (push_down + push_up).sum() / s_feature.size(0) / 1000 * 3
        return self.loss_weight * loss


@MODELS.register_module()
class ChannelWiseDivergence(nn.Module):
    """Channel-wise distillation.

    From `Channel-wise Knowledge Distillation for Dense Prediction
    <https://arxiv.org/abs/2011.13256>`_ (Shu et al., ICCV 2021). Each
    channel's map is turned into a distribution over the H*W positions by a
    softmax with temperature :math:`\\tau`:

    .. math::
        L = \\frac{\\tau^2}{N C}\\sum_{n,c}\\sum_{i} p^T_{nci}
        (\\log p^T_{nci} - \\log p^S_{nci})

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        teacher_detach (bool): Stop gradients into the teacher map.
            Defaults to True.
    """

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_positive(name, 'tau', tau)
        check_loss_weight(name, loss_weight)
        self.tau = tau
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Compute the loss on two (N, C, H, W) maps of the same shape."""
        name = type(self).__name__
        check_ndim(name, 'preds_S', preds_S, (4, ))
        check_same_shape(name, preds_S, preds_T)
        if self.teacher_detach:
            preds_T = preds_T.detach()
        n, c = preds_S.shape[:2]
        log_p_s = F.log_softmax(preds_S.flatten(2) / self.tau, dim=2)
        log_p_t = F.log_softmax(preds_T.flatten(2) / self.tau, dim=2)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum()
        return self.loss_weight * self.tau**2 * kl / (n * c)
