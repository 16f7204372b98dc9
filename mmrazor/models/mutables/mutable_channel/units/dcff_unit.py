# Copyright (c) OpenMMLab. All rights reserved.
"""DCFF units: the kept filters are fusions of all the filters of a layer.

Lin et al., "Training Compact CNNs for Image Classification using
Dynamic-coded Filter Fusion", TPAMI 2023 (https://arxiv.org/abs/2107.06916).
"""
import math
from typing import List, Tuple

import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .._index import select
from .sequential_units import SequentialMutableChannelUnit


def dcff_fusion(filters: torch.Tensor,
                temperature: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """Inter-similarity distributions and KL importance of ``c`` filters.

    Filter ``k``'s distribution over the filters is
    ``p_k = softmax_j(-||w_k - w_j||_2 * temperature)``: the higher the
    temperature, the closer ``p_k`` is to one-hot on ``k`` itself. Its
    importance is its mean Kullback-Leibler divergence from the others'
    distributions, ``I_k = 1/c * sum_j KL(p_k || p_j)``: a filter unlike the
    rest carries information they do not.

    Args:
        filters (Tensor): ``(c, d)``, one flattened filter per row.
        temperature (float): The temperature ``t > 0``.

    Returns:
        tuple[Tensor, Tensor]: The distributions ``(c, c)`` (row ``k`` is
        ``p_k``) and the importances ``(c, )``, in float64.
    """
    if not temperature > 0:
        raise ValueError(f'dcff_fusion: `temperature` must be > 0, but got '
                         f'{temperature!r}')
    filters = filters.detach().double()
    distance = torch.cdist(filters, filters)
    log_p = torch.log_softmax(-distance * temperature, dim=1)
    p = log_p.exp()
    # sum_i p_ki log p_ki - sum_i p_ki * mean_j log p_ji
    importance = (p * log_p).sum(1) - p @ log_p.mean(0)
    return p, importance


def dcff_temperature(step: int,
                     num_steps: int,
                     start: float = 1.0,
                     end: float = 1e4,
                     k: float = 1.0) -> float:
    """The paper's temperature schedule, from ``start`` to ``end``.

    ``T(e) = A / (1 + exp(-k e)) + start - A / 2`` with
    ``A = 2 (end - start) (1 + exp(-k E)) / (1 - exp(-k E))``, so that
    ``T(0) = start`` and ``T(E) = end`` (``E = num_steps``).

    Args:
        step (int): The current step ``e`` (0-based).
        num_steps (int): The last step ``E``; 0 gives ``start``.
        start (float): ``T(0)``. Defaults to 1.
        end (float): ``T(E)``. Defaults to 1e4.
        k (float): Steepness. Defaults to 1.

    Returns:
        float: The temperature.
    """
    if num_steps <= 0:
        return float(start)
    decay = math.exp(-k * num_steps)
    amplitude = 2 * (end - start) * (1 + decay) / (1 - decay)
    return amplitude / (1 + math.exp(-k * step)) + start - amplitude / 2



@MODELS.register_module()
class DCFFChannelUnit(SequentialMutableChannelUnit):
    """A unit that keeps ``k`` fused filters in each of its convolutions.

    DCFF (Lin et al., TPAMI 2023) trains a compact network whose ``k``
    filters per layer are weighted averages of the layer's ``c`` filters.
    This unit keeps the first ``k`` channels of every layer it couples (as
    :class:`SequentialMutableChannelUnit` does) and turns each output
    convolution that produces all the unit's channels (a plain or dynamic
    ``Conv2d`` with ``groups=1``; not the elastic-kernel BigNAS / OFA
    convolutions) into a ``FuseConv2d``
    (``mmrazor.models.architectures.dynamic_ops``), whose
    ``i``-th active filter is ``sum_j fusion_matrix[i, j] * w_j``.

    :meth:`update_fusion` recomputes ``fusion_matrix`` from the current
    filters with :func:`dcff_fusion`: the rows of the ``k`` most important
    filters (mean KL divergence of their inter-similarity distributions),
    in filter order, then the others by decreasing importance. Before the
    first update, and whenever the unit keeps all its channels (as the
    original MMRazor leaves unpruned layers unfused), the matrix is the
    identity: the unit behaves like a sequential unit.

    When several convolutions produce the unit's channels (a residual sum),
    one distribution per channel is computed on their filters concatenated,
    so the summed channels are fused alike; with one convolution this is
    the paper's definition. Depthwise and grouped convolutions, and layers
    other than convolutions (BN, linear), keep their first ``k`` channels
    unfused; the layers reading the unit take their first ``k`` input
    channels (the compact network is trained in this form).

    ``fusion_matrix`` is a persistent buffer: checkpoints carry it.

    Args:
        num_channels (int): Number of channels of the unit.
        choice_mode (str): ``'number'`` or ``'ratio'``. Defaults to
            ``'ratio'``.
        divisor (int): Counts are multiples of it. Defaults to 1.
        min_value (int): Smallest count. Defaults to 1.
        min_ratio (float): See :class:`SequentialMutableChannelUnit`.
            Defaults to 0.9.
    """

    def __init__(self,
                 num_channels: int,
                 choice_mode: str = 'ratio',
                 divisor: int = 1,
                 min_value: int = 1,
                 min_ratio: float = 0.9,
                 **kwargs) -> None:
        super().__init__(num_channels, choice_mode, divisor, min_value,
                         min_ratio, **kwargs)
        self.register_buffer('fusion_matrix', torch.eye(num_channels))
        self.__dict__['_fused_convs'] = []

    @property
    def fused_convs(self) -> List[nn.Module]:
        """The convolutions whose filters are fused."""
        return list(self._fused_convs)

    def prepare_for_pruning(self, model: nn.Module) -> None:
        """Register the mutable channel, then make the output convolutions
        (``groups=1``, whole output range) fused convolutions."""
        super().prepare_for_pruning(model)
        from mmrazor.models.architectures.dynamic_ops import (
            DynamicConv2d,
            FuseConv2d,
        )
        convs = []
        for channel in self.output_related:
            module = model.get_submodule(channel.name)
            if type(module) not in (nn.Conv2d, DynamicConv2d, FuseConv2d) \
                    or module.groups != 1 or \
                    channel.start != 0 or channel.expand_ratio != 1 or \
                    channel.end != module.out_channels:
                continue
            if not isinstance(module, FuseConv2d):
                module = FuseConv2d.convert_from(module)
                parent, _, attr = channel.name.rpartition('.')
                setattr(model.get_submodule(parent), attr, module)
            module.bind_fusion(self)
            convs.append(module)
        self.__dict__['_fused_convs'] = convs

    def filters(self) -> torch.Tensor:
        """The ``(c, d)`` filters the similarities are computed on: each
        fused convolution's filters over its active input channels,
        flattened and concatenated."""
        rows = [
            select(conv.weight.detach(), conv.channel_index('in_channels'),
                   1).flatten(1) for conv in self._fused_convs
        ]
        return torch.cat(rows, dim=1)

    @torch.no_grad()
    def update_fusion(self, temperature: float) -> torch.Tensor:
        """Recompute ``fusion_matrix`` at ``temperature``.

        Args:
            temperature (float): The temperature of the distributions.

        Returns:
            Tensor: The indices of the kept (fused-into) filters, sorted.
        """
        num_keep = self.activated_channels
        if not self._fused_convs or num_keep == self.num_channels:
            self.fusion_matrix.copy_(torch.eye(self.num_channels))
            return torch.arange(num_keep)
        distribution, importance = dcff_fusion(self.filters(), temperature)
        order = importance.argsort(descending=True, stable=True)
        kept = order[:num_keep].sort().values
        order = torch.cat([kept, order[num_keep:]])
        self.fusion_matrix.copy_(distribution[order].to(self.fusion_matrix))
        return kept

    def extra_repr(self) -> str:
        return super().extra_repr() + \
            f', fused_convs={len(self._fused_convs)}'
