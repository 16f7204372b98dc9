# Copyright (c) OpenMMLab. All rights reserved.
"""Mutables that choose which incoming edges of a DARTS node to keep."""
import random
from typing import Any, Dict, List, Optional, Sequence, Union

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmrazor.registry import MODELS
from mmrazor.utils import DumpChosen

from ._diff_common import ArchParamHolder, as_name_list
from .base_mutable import BaseMutable
from .diff_mutable_op import DEFAULT_EXCLUDE


class ChosenInputsSum(nn.Module):
    """Static export of a fixed route: ``sum(edge(inputs[index]))`` over the
    kept edges, with the route's ``state_dict`` keys (``_candidates.*``)."""

    def __init__(self, edges: Dict[str, nn.Module],
                 indices: Dict[str, int]) -> None:
        super().__init__()
        self._candidates = nn.ModuleDict(edges)
        self.indices = [indices[name] for name in edges]

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        outputs = [
            edge(inputs[i])
            for i, edge in zip(self.indices, self._candidates.values())
        ]
        return sum(outputs[1:], outputs[0])


class _RouteMixin:
    """What both routes share; they differ only in :meth:`arch_probs`.

    A plain mixin (not a module), so that both routes sit directly on
    :class:`BaseMutable`.
    """

    def _init_route(self, edges: Union[nn.ModuleDict, Dict[str, nn.Module]],
                    num_chosen: int, with_arch_param: bool) -> None:
        if not isinstance(edges, (dict, nn.ModuleDict)) or not edges:
            raise ValueError(
                f'{self._describe()}: `edges` must be a non-empty dict or '
                f'nn.ModuleDict of built edge modules, but got {edges!r}')
        if not isinstance(num_chosen, int) or not \
                1 <= num_chosen <= len(edges):
            raise ValueError(
                f'{self._describe()}: `num_chosen` must be an int in [1, '
                f'{len(edges)}] (the number of edges), but got {num_chosen!r}')
        self._candidates = edges if isinstance(
            edges, nn.ModuleDict) else nn.ModuleDict(edges)
        self._indices = {name: i for i, name in enumerate(self._candidates)}
        self.num_chosen = num_chosen
        self.with_arch_param = with_arch_param
        self._chosen: Optional[List[str]] = None

    @property
    def choices(self) -> List[str]:
        """The names of the (remaining) edges, in input order."""
        return list(self._candidates.keys())

    @property
    def arch_param_size(self) -> int:
        """Entries of the route's own parameter: one per edge, or 0 without
        ``with_arch_param`` or once fixed."""
        return self.num_choices if self.with_arch_param and \
            not self.is_fixed else 0

    @property
    def current_choice(self) -> Optional[List[str]]:
        """The kept edge names, or None."""
        return self._chosen

    @current_choice.setter
    def current_choice(self, choice: Union[str, List[str]]) -> None:
        self._chosen = as_name_list(self._describe(), choice, self.choices)

    def check_choice(self, choice: Any) -> None:
        """Accept one edge name or a non-empty list of distinct names."""
        as_name_list(self._describe(), choice, self.choices)

    def sample_choice(self) -> List[str]:
        """``num_chosen`` distinct edges drawn uniformly, in input order."""
        picked = set(random.sample(self.choices, self.num_chosen))
        return [name for name in self.choices if name in picked]

    def derive_choice(self,
                      exclude: Sequence[str] = DEFAULT_EXCLUDE) -> List[str]:
        """The ``num_chosen`` strongest edges, strongest first.

        With its own parameter, an edge's strength is its softmax
        probability; without, it is the largest probability of a non-excluded
        op on the edge (the DARTS paper's rule), which needs every edge to
        have ``edge_strength`` (a :class:`DiffMutableOP`).

        Args:
            exclude (sequence[str]): Ops that do not count for the edge
                strength. Defaults to ``('zero',)``.

        Returns:
            list[str]: The kept edges.
        """
        if self.arch_param is not None:
            strengths = F.softmax(self.arch_param.detach(), -1).tolist()
        else:
            strengths = []
            for name, edge in self._candidates.items():
                if not hasattr(edge, 'edge_strength'):
                    raise TypeError(
                        f'{self._describe()} has no architecture parameter '
                        f'and edge {name!r} ({type(edge).__name__}) has no '
                        '`edge_strength`; use with_arch_param=True or '
                        'DiffMutableOP edges')
                strengths.append(edge.edge_strength(exclude))
        order = sorted(range(len(strengths)), key=lambda i: -strengths[i])
        return [self.choices[i] for i in order[:self.num_chosen]]

    def fix_chosen(self, chosen: Union[str, Sequence[str]]) -> None:
        """Keep only the edges ``chosen`` for good.

        Args:
            chosen (str | list[str]): Edge names.
        """
        if self.is_fixed:
            names = [chosen] if isinstance(chosen, str) else list(chosen)
            if set(names) != set(self.choices):
                raise AttributeError(
                    f'{self._describe()} is already fixed to {self.choices};'
                    f' it cannot be fixed to {names}')
            return
        names = as_name_list(self._describe(), chosen, self.choices)
        for name in self.choices:
            if name not in names:
                del self._candidates[name]
        self._chosen = names
        self.set_arch_param(None)
        self.is_fixed = True

    def dump_chosen(self) -> DumpChosen:
        """The kept edges (derived from the parameters if none is set)."""
        chosen = self._chosen
        if chosen is None:
            chosen = self.derive_choice()
        return DumpChosen(chosen=list(chosen),
                          meta=dict(all_choices=list(self._indices)))

    def to_static_op(self) -> nn.Module:
        """A plain module summing the kept edges of their inputs."""
        if self._chosen is None:
            raise RuntimeError(f'{self._describe()} has no choice; fix it or'
                               ' set `current_choice` before export')
        return ChosenInputsSum({n: self._candidates[n]
                                for n in self._chosen}, self._indices)

    def forward(self,
                inputs: Sequence[Tensor],
                arch_param: Optional[Tensor] = None) -> Tensor:
        """Combine the edges applied to their inputs.

        ``inputs[i]`` feeds the ``i``-th edge as the route was built. Fixed:
        the kept edges summed; with a parameter (given or attached, and
        ``with_arch_param``): ``sum_i p_i * edge_i(inputs[i])`` skipping
        zero probabilities; with a set choice: those edges summed;
        otherwise all edges summed.

        Args:
            inputs (sequence[Tensor]): One input per edge (all nodes so far).
            arch_param (Tensor, optional): Overrides the attached parameter.

        Returns:
            Tensor: The node's output.
        """
        if len(inputs) != len(self._indices):
            raise ValueError(
                f'{self._describe()} was built with {len(self._indices)} '
                f'edges and needs one input each, but got {len(inputs)}')
        if self.is_fixed:
            names = self.choices
        else:
            param = arch_param if arch_param is not None else self.arch_param
            if param is not None and self.with_arch_param:
                probs = self.arch_probs(param)
                outputs = [
                    p * edge(inputs[i]) for p, edge, i in zip(
                        probs, self._candidates.values(), range(len(probs)))
                    if p > 0
                ]
                return sum(outputs[1:], outputs[0])
            names = self._chosen or self.choices
        outputs = [
            self._candidates[n](inputs[self._indices[n]]) for n in names
        ]
        return sum(outputs[1:], outputs[0])

    def extra_repr(self) -> str:
        fixed = ', fixed' if self.is_fixed else ''
        return (f'alias={self.alias!r}, choices={self.choices}, '
                f'num_chosen={self.num_chosen}{fixed}')


@MODELS.register_module()
class DiffChoiceRoute(_RouteMixin, ArchParamHolder, BaseMutable):
    """Weighted sum over the incoming edges of a node (DARTS).

    Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019
    (https://arxiv.org/abs/1806.09055).

    With ``with_arch_param=True`` the route has its own architecture
    parameter (one entry per edge, created by the mutator) and weighs the
    edges by its softmax, as the original MMRazor's DARTS space does;
    without, it sums the edges (the paper's supernet) and derives the kept
    edges from the ops' probabilities. A subnet keeps ``num_chosen`` edges.

    Args:
        edges (nn.ModuleDict): The edges, ``{name: module}``, in the order of
            the inputs they take.
        num_chosen (int): Edges a derived subnet keeps. Defaults to 2.
        with_arch_param (bool): Whether the route has its own parameter.
            Defaults to False.
        alias (str, optional): Search-group name. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 edges: Union[nn.ModuleDict, Dict[str, nn.Module]],
                 num_chosen: int = 2,
                 with_arch_param: bool = False,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        self._init_route(edges, num_chosen, with_arch_param)

    def arch_probs(self, arch_param: Tensor) -> Tensor:
        """Softmax of the route's parameter."""
        return F.softmax(arch_param, dim=-1)


@MODELS.register_module()
class GumbelChoiceRoute(_RouteMixin, ArchParamHolder, BaseMutable):
    """A route that samples its edges with the Gumbel-softmax trick.

    Jang et al., "Categorical Reparameterization with Gumbel-Softmax",
    ICLR 2017 (https://arxiv.org/abs/1611.01144); used for edges as in
    GDAS (Dong and Yang, CVPR 2019, https://arxiv.org/abs/1910.04465).

    Each forward draws ``gumbel_softmax(alpha, tau, hard)``: with ``hard``
    one edge is run (the others have probability 0 and are skipped) while
    the gradient flows as for the soft sample. Lower ``tau`` during
    training with :meth:`set_temperature`, or from a config with
    ``custom_hooks=[dict(type='mmrazor.GumbelTemperatureHook')]``
    (linear, geometric or cosine schedules; GDAS's 10 to 0.1 by default).

    Args:
        edges (nn.ModuleDict): The edges, in input order.
        tau (float): Temperature, > 0. Defaults to 1.0.
        hard (bool): Whether samples are one-hot. Defaults to True.
        num_chosen (int): Edges a derived subnet keeps. Defaults to 2.
        with_arch_param (bool): Whether the route has its own parameter.
            Defaults to True (sampling needs one).
        alias (str, optional): Search-group name. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 edges: Union[nn.ModuleDict, Dict[str, nn.Module]],
                 tau: float = 1.0,
                 hard: bool = True,
                 num_chosen: int = 2,
                 with_arch_param: bool = True,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        self._init_route(edges, num_chosen, with_arch_param)
        self.hard = hard
        self.set_temperature(tau)

    def set_temperature(self, tau: float) -> None:
        """Set the Gumbel-softmax temperature (> 0)."""
        if not tau > 0:
            raise ValueError(f'{self._describe()}: the temperature `tau` must'
                             f' be > 0, but got {tau!r}')
        self.tau = float(tau)

    def arch_probs(self, arch_param: Tensor) -> Tensor:
        """A Gumbel-softmax sample of the route's parameter."""
        return F.gumbel_softmax(arch_param, tau=self.tau, hard=self.hard,
                                dim=-1)

