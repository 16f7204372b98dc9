# Copyright (c) OpenMMLab. All rights reserved.
"""Contrastive representation distillation (``CRDLoss``)."""
import math
from typing import Any, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmrazor.registry import MODELS
from mmrazor.utils.validators import (
    check_number,
    check_positive,
    check_positive_int,
)

from ._utils import check_loss_weight, check_same_shape


@MODELS.register_module()
class CRDLoss(nn.Module):
    """Contrastive representation distillation with a memory bank.

    From `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_ (Tian et al., ICLR 2020). Each
    sample's embedding from one network is scored against the memory-bank
    embeddings of the other network, for itself (positive) and for
    ``neg_num`` uniformly drawn samples (negatives):
    :math:`P(v, m) = \\exp(\\langle v, m\\rangle / T) / Z`, with :math:`Z`
    fixed on the first step as ``sample_n`` times the mean score. With
    :math:`K` = ``neg_num`` and :math:`n` = ``sample_n``, the NCE loss
    (the paper's Eq. 18) of one side is

    .. math::
        L = -\\frac{1}{N}\\sum_i \\Big(\\log\\frac{P_{i0}}{P_{i0} + K/n +
        \\epsilon} + \\sum_{k=1}^{K}\\log\\frac{K/n}{P_{ik} + K/n +
        \\epsilon}\\Big)

    and the loss is the sum of the student side and the teacher side. After
    each step the memory rows of the batch move to
    :math:`\\mathrm{normalize}(\\mu m + (1 - \\mu) v)`.

    The teacher embedding comes from a trainable head (``CRDConnector``), so
    gradients flow to it as well as to the student.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        temperature (float): :math:`T`. Defaults to 0.07.
        neg_num (int): Negatives per sample :math:`K`. Defaults to 16384.
        sample_n (int): Size of the training set :math:`n` (rows of the
            memory banks). Defaults to 50000.
        dim_out (int): Embedding size. Defaults to 128.
        momentum (float): Memory momentum :math:`\\mu` in [0, 1].
            Defaults to 0.5.
        eps (float): :math:`\\epsilon`. Defaults to 1e-7.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 temperature: float = 0.07,
                 neg_num: int = 16384,
                 sample_n: int = 50000,
                 dim_out: int = 128,
                 momentum: float = 0.5,
                 eps: float = 1e-7) -> None:
        super().__init__()
        name = type(self).__name__
        check_loss_weight(name, loss_weight)
        check_positive(name, 'temperature', temperature)
        for field, value in (('neg_num', neg_num), ('sample_n', sample_n),
                             ('dim_out', dim_out)):
            check_positive_int(name, field, value)
        check_number(name, 'momentum', momentum, low=0, high=1)
        check_positive(name, 'eps', eps)
        self.loss_weight = loss_weight
        self.temperature = temperature
        self.neg_num = neg_num
        self.sample_n = sample_n
        self.dim_out = dim_out
        self.momentum = momentum
        self.eps = eps
        bound = 1. / math.sqrt(dim_out / 3)
        for bank in ('memory_s', 'memory_t'):
            self.register_buffer(
                bank, (torch.rand(sample_n, dim_out) * 2 - 1) * bound)
        self.register_buffer('z_s', torch.tensor(-1.0))
        self.register_buffer('z_t', torch.tensor(-1.0))

    def forward(self, s_feats: Tensor, t_feats: Tensor,
                data_samples: Any) -> Tensor:
        """Compute the loss and update the memory banks.

        Args:
            s_feats (Tensor): Student embeddings, shape (N, dim_out).
            t_feats (Tensor): Teacher embeddings, shape (N, dim_out).
            data_samples (list | Tensor): Data samples with ``sample_idx``
                in their metainfo and optionally ``contrast_sample_idxs``
                (neg_num + 1,) whose first entry is the sample itself; or a
                tensor of sample indices (N,).

        Returns:
            Tensor: The weighted loss.
        """
        name = type(self).__name__
        check_same_shape(name, s_feats, t_feats, ('s_feats', 't_feats'))
        if s_feats.dim() != 2 or s_feats.size(1) != self.dim_out:
            raise ValueError(f'{name}: s_feats and t_feats must have shape '
                             f'(N, dim_out={self.dim_out}), got '
                             f'{tuple(s_feats.shape)}.')
        idx, contrast = self._indices(data_samples, s_feats.size(0))
        idx, contrast = idx.to(s_feats.device), contrast.to(s_feats.device)
        # Student embeddings meet the teacher bank and vice versa.
        score_s = self._scores(s_feats, self.memory_t[contrast])
        score_t = self._scores(t_feats, self.memory_s[contrast])
        if self.z_s < 0:
            self.z_s.fill_(score_s.detach().mean().item() * self.sample_n)
        if self.z_t < 0:
            self.z_t.fill_(score_t.detach().mean().item() * self.sample_n)
        loss = (self._nce(score_s / self.z_s) +
                self._nce(score_t / self.z_t))
        self._update(self.memory_s, s_feats, idx)
        self._update(self.memory_t, t_feats, idx)
        return self.loss_weight * loss

    def _indices(self, data_samples: Any, num: int) -> Tuple[Tensor, Tensor]:
        name = type(self).__name__
        contrast: Optional[Tensor] = None
        if isinstance(data_samples, Tensor):
            idx = data_samples.reshape(-1).long()
        else:
            idx = torch.tensor([int(s.sample_idx) for s in data_samples],
                               dtype=torch.long)
            given = [getattr(s, 'contrast_sample_idxs', None)
                     for s in data_samples]
            if all(g is not None for g in given) and given:
                contrast = torch.stack([torch.as_tensor(g).long()
                                        for g in given])
        if idx.numel() != num:
            raise ValueError(f'{name}: data_samples must give one sample_idx '
                             f'per sample, got {idx.numel()} for a batch of '
                             f'{num}.')
        if contrast is None:
            contrast = torch.randint(0, self.sample_n,
                                     (num, self.neg_num + 1))
            contrast[:, 0] = idx
        elif tuple(contrast.shape) != (num, self.neg_num + 1):
            raise ValueError(f'{name}: contrast_sample_idxs must have shape '
                             f'(neg_num + 1,) = ({self.neg_num + 1},) per '
                             f'sample, got {tuple(contrast.shape)} stacked.')
        for field, value in (('sample_idx', idx),
                             ('contrast_sample_idxs', contrast)):
            if value.min() < 0 or value.max() >= self.sample_n:
                raise ValueError(f'{name}: {field} must lie in [0, sample_n='
                                 f'{self.sample_n}), got values in '
                                 f'[{int(value.min())}, {int(value.max())}].')
        return idx, contrast

    def _scores(self, feats: Tensor, bank_rows: Tensor) -> Tensor:
        """exp(<m, v> / T) for bank rows (N, K+1, D) and feats (N, D)."""
        dots = torch.einsum('nkd,nd->nk', bank_rows.detach().to(feats.dtype),
                            feats)
        return torch.exp(dots / self.temperature)

    def _nce(self, prob: Tensor) -> Tensor:
        noise = self.neg_num / self.sample_n
        pos = torch.log(prob[:, 0] / (prob[:, 0] + noise + self.eps))
        neg = torch.log(noise / (prob[:, 1:] + noise + self.eps))
        return -(pos.sum() + neg.sum()) / prob.size(0)

    @torch.no_grad()
    def _update(self, bank: Tensor, feats: Tensor, idx: Tensor) -> None:
        rows = self.momentum * bank[idx] + (1 - self.momentum) * feats.to(
            bank.dtype)
        bank[idx] = rows / rows.norm(dim=1, keepdim=True)
