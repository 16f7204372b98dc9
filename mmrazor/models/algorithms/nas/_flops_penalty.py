# Copyright (c) OpenMMLab. All rights reserved.
"""The resource term of DSNAS: a penalty on the expected FLOPs."""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ...mutables import OneHotMutableOP
from ...mutators import NasMutator
from ...task_modules.estimators import SubnetCostTable, build_estimator


@contextmanager
def plain_choices(mutator: NasMutator) -> Iterator[None]:
    """Detach the architecture parameters of every mutable, so that a
    forward runs the set choices (what a cost table counts); attach them
    and clear the choices again on exit."""
    saved = [(m, m.arch_param, m.current_choice)
             for m in mutator.mutables.values()]
    for mutable, _, _ in saved:
        mutable.set_arch_param(None)
    try:
        yield
    finally:
        for mutable, param, choice in saved:
            if mutable.current_choice != choice:
                mutable.current_choice = choice
            mutable.set_arch_param(param)


class ExpectedFlopsPenalty:
    """``coef * E[FLOPs]`` under the architecture distribution, applied while
    ``E[FLOPs] >= constraint``: the gradient of ``coef * max(E[FLOPs] -
    constraint, 0)``.

    DSNAS (Hu et al., CVPR 2020, https://arxiv.org/abs/2002.09128) searches
    under a resource term as SNAS does (Xie et al., "SNAS: Stochastic
    Neural Architecture Search", ICLR 2019, https://arxiv.org/abs/1812.09926):
    the expectation of the cost of the sampled network. Block costs add up,
    so the expectation is exact and cheap:

        E[FLOPs] = fixed + sum over groups g of sum_k p_g[k] * c_g[k]

    with ``p_g = softmax(alpha_g)`` and ``c_g[k]`` the FLOPs of choice ``k``
    summed over the blocks of group ``g`` (a
    :class:`~mmrazor.models.task_modules.estimators.SubnetCostTable`, in
    MFLOPs by default). Its gradient ``p_g * (c_g - p_g . c_g)`` is taken by
    autograd; a group whose blocks are fixed adds its chosen cost.

    Args:
        table (SubnetCostTable): Costs of every choice of every group.
        constraint (float): The penalty applies while ``E[FLOPs]`` is at
            least this, in the table's units.
        coef (float): Weight of the penalty. Defaults to 1e-2.
    """

    def __init__(self,
                 table: SubnetCostTable,
                 constraint: float,
                 coef: float = 1e-2) -> None:
        if not coef >= 0:
            raise ValueError('DSNAS: `flops_loss_coef` must be >= 0, but got'
                             f' {coef!r}')
        self.table = table
        self.constraint = float(constraint)
        self.coef = float(coef)
        self._costs = table.choice_costs('flops')
        self._fixed = table.fixed_cost('flops')

    @classmethod
    def build(cls, supernet: nn.Module, mutator: NasMutator,
              estimator_cfg: Optional[Dict], constraint: float,
              coef: float) -> 'ExpectedFlopsPenalty':
        """Measure the cost table of ``supernet`` and make the penalty.

        Args:
            supernet (nn.Module): The architecture, as the estimator calls
                it.
            mutator (NasMutator): Prepared from ``supernet``.
            estimator_cfg (dict, optional): A ``ResourceEstimator`` config
                (its ``input_shape`` and units hold for the constraint).
                Defaults to None: ``ResourceEstimator()`` (224x224, MFLOPs).
            constraint (float): See the class.
            coef (float): See the class.

        Returns:
            ExpectedFlopsPenalty: The penalty.
        """
        for name, mutable in mutator.mutables.items():
            if not isinstance(mutable, OneHotMutableOP):
                raise TypeError(
                    'DSNAS: the FLOPs penalty (`flops_constraints`) needs a '
                    'search space of OneHotMutableOP blocks whose candidates '
                    'keep the shapes (the DSNAS ShuffleNetV2 space), but '
                    f'mutable {name!r} is a {type(mutable).__name__}; set '
                    '`flops_constraints=None` to search without it')
        estimator = build_estimator(estimator_cfg)
        with plain_choices(mutator):
            table = SubnetCostTable.build(supernet, mutator, estimator)
        return cls(table, constraint, coef)

    def expected_flops(self, mutator: NasMutator) -> Tensor:
        """``E[FLOPs]`` as a tensor in the graph of the parameters."""
        total = torch.tensor(self._fixed, dtype=torch.float64)
        for key, group in mutator.search_groups.items():
            costs = self._costs[key]
            if group[0].is_fixed:
                total = total + costs[group[0].choices[0]]
                continue
            param = mutator.arch_param(key)
            vector = torch.tensor([costs[c] for c in group[0].choices],
                                  dtype=param.dtype, device=param.device)
            total = total + (F.softmax(param, -1) * vector).sum().cpu()
        return total

    def grads(self, mutator: NasMutator
              ) -> Tuple[List[Tensor], float, bool]:
        """The penalty's gradient for each architecture parameter (in the
        order of ``mutator.parameters()``), ``E[FLOPs]`` and whether the
        penalty applies."""
        params = list(mutator.parameters())
        expected = self.expected_flops(mutator)
        applied = bool(expected >= self.constraint) and self.coef > 0
        grads = [torch.zeros_like(p) for p in params]
        if applied and expected.requires_grad:
            got = torch.autograd.grad(expected, params, allow_unused=True)
            grads = [
                g * self.coef if g is not None else z
                for g, z in zip(got, grads)
            ]
        return grads, float(expected.detach()), applied
