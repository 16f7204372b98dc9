# Copyright (c) OpenMMLab. All rights reserved.
"""The DARTS mutable: a softmax-weighted mixture of candidate ops."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmrazor.registry import MODELS
from mmrazor.utils import DumpChosen

from ._diff_common import (
    ArchParamHolder,
    CandidatesType,
    argmax_name,
    as_name_list,
    build_candidates,
)
from .base_mutable import BaseMutable

#: Ops a derived subnet never picks by default (the DARTS paper's rule).
DEFAULT_EXCLUDE = ('zero', )


class ChosenOpsSum(nn.Module):
    """Static export of a mutable fixed to several ops: their sum.

    Holds the ops under ``_candidates`` so that its ``state_dict`` keys are
    those of the mutable it replaces.
    """

    def __init__(self, ops: Dict[str, nn.Module]) -> None:
        super().__init__()
        self._candidates = nn.ModuleDict(ops)

    def forward(self, x: Any) -> Tensor:
        outputs = [op(x) for op in self._candidates.values()]
        return sum(outputs[1:], outputs[0])


def static_ops(ops: Dict[str, nn.Module]) -> nn.Module:
    """The plain module that runs ``ops`` (one op, or the sum of several),
    keeping the keys ``_candidates.<name>.*``."""
    if len(ops) == 1:
        return nn.Sequential(
            OrderedDict(_candidates=nn.Sequential(OrderedDict(ops))))
    return ChosenOpsSum(ops)


@MODELS.register_module()
class DiffMutableOP(ArchParamHolder, BaseMutable):
    """Chooses among candidate ops by a learnt softmax (DARTS).

    Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019
    (https://arxiv.org/abs/1806.09055).

    During search the output is ``sum_i softmax(alpha)_i * op_i(x)``, where
    ``alpha`` is the architecture parameter of the mutable's search group,
    created by :class:`~mmrazor.models.mutators.NasMutator` (mutables with
    one alias share it). Candidates of zero probability (a hard Gumbel
    sample, for instance) are not run.

    What ``forward`` runs, in order of precedence:

    - after ``fix_chosen``: the kept op (or the sum of the kept ops);
    - ``forward(x, arch_param)``: the mixture under that parameter;
    - with an architecture parameter attached: the mixture under it;
    - with ``current_choice`` set: that op alone;
    - otherwise: the sum of all candidates (what FLOPs counters see).

    The derived choice is the op of largest probability, leaving out
    ``exclude`` (``'zero'`` by default, as the paper does). Subnet files
    store it as a one-element list, the original MMRazor's layout
    (``chosen: [sep_conv_3x3]``); a list of several ops is accepted too and
    keeps their sum.

    Args:
        candidates (dict[str, dict | nn.Module] | nn.ModuleDict): The named
            candidate ops.
        fix_threshold (float): Kept for the original configs: DARTS never
            fixes during search. Must be in [0, 1]. Defaults to 1.0.
        module_kwargs (dict, optional): Merged into every candidate config
            (``in_channels``, ``out_channels``, ``stride``). Defaults to None.
        alias (str, optional): Search-group name. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> import torch
        >>> op = DiffMutableOP(
        ...     candidates=dict(
        ...         skip_connect=dict(type='DartsSkipConnect'),
        ...         sep_conv_3x3=dict(type='DartsSepConv', kernel_size=3)),
        ...     module_kwargs=dict(in_channels=4, out_channels=4, stride=1))
        >>> op.set_arch_param(torch.tensor([0., 1.]))
        >>> op.derive_choice()
        'sep_conv_3x3'
    """

    def __init__(self,
                 candidates: CandidatesType,
                 fix_threshold: float = 1.0,
                 module_kwargs: Optional[Dict[str, Any]] = None,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        if not 0 <= fix_threshold <= 1:
            raise ValueError(f'{self._describe()}: `fix_threshold` must be in'
                             f' [0, 1], but got {fix_threshold!r}')
        self.fix_threshold = fix_threshold
        self.module_kwargs = dict(module_kwargs or {})
        self._candidates = build_candidates(self._describe(), candidates,
                                            self.module_kwargs)
        self._chosen: Optional[Union[str, List[str]]] = None

    @property
    def choices(self) -> List[str]:
        """The candidate names, in the given order."""
        return list(self._candidates.keys())

    @property
    def arch_param_size(self) -> int:
        """Entries of the architecture parameter (0 once fixed)."""
        return 0 if self.is_fixed else self.num_choices

    @property
    def current_choice(self) -> Optional[Union[str, List[str]]]:
        """The set (or fixed) op name(s), or None."""
        return self._chosen

    @current_choice.setter
    def current_choice(self, choice: Union[str, List[str]]) -> None:
        self.check_choice(choice)
        self._chosen = choice

    def check_choice(self, choice: Any) -> None:
        """Accept one op name or a non-empty list of distinct names."""
        as_name_list(self._describe(), choice, self.choices)

    def arch_probs(self, arch_param: Optional[Tensor] = None) -> Tensor:
        """Softmax of the architecture parameter (given or attached)."""
        param = self._require_param(arch_param)
        return F.softmax(param, dim=-1)

    def derive_choice(self, exclude: Sequence[str] = DEFAULT_EXCLUDE) -> str:
        """The op of largest probability, leaving out ``exclude``.

        Args:
            exclude (sequence[str]): Ops that may not win (if every op is
                excluded, none is). Defaults to ``('zero',)``.

        Returns:
            str: The derived op.
        """
        if self.is_fixed:
            return self.choices[0]
        return argmax_name(self.arch_probs(), self.choices, exclude)

    def edge_strength(self, exclude: Sequence[str] = DEFAULT_EXCLUDE) -> float:
        """The largest probability among ops not in ``exclude``: how the
        paper ranks the incoming edges of a node."""
        if self.is_fixed:
            return 1.
        probs = self.arch_probs().detach()
        keep = [i for i, n in enumerate(self.choices) if n not in exclude]
        return float(probs[keep].max()) if keep else float(probs.max())

    def fix_chosen(self, chosen: Union[str, Sequence[str]]) -> None:
        """Keep only the op(s) ``chosen`` and drop the others for good.

        Args:
            chosen (str | list[str]): An op name or a list of names.
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
        """The chosen op(s) as a list (the original files' layout).

        Without a set choice, the choice derived from the attached
        architecture parameter is dumped.
        """
        chosen = self._chosen
        if chosen is None and self.arch_param is not None:
            chosen = self.derive_choice()
        if chosen is None:
            raise RuntimeError(
                f'{self._describe()} has no choice to dump: set '
                '`current_choice`, or attach an architecture parameter '
                '(NasMutator.prepare_from_supernet)')
        names = [chosen] if isinstance(chosen, str) else list(chosen)
        return DumpChosen(chosen=names, meta=dict(all_choices=self.choices))

    def to_static_op(self) -> nn.Module:
        """A plain module running the chosen op(s), same ``state_dict`` keys.
        """
        chosen = self._chosen
        if chosen is None:
            raise RuntimeError(f'{self._describe()} has no choice; fix it or'
                               ' set `current_choice` before export')
        names = [chosen] if isinstance(chosen, str) else chosen
        return static_ops({n: self._candidates[n] for n in names})

    def forward(self, x: Any, arch_param: Optional[Tensor] = None) -> Tensor:
        """Run the candidates as the class docstring describes.

        Args:
            x: The input of every candidate.
            arch_param (Tensor, optional): Overrides the attached parameter.

        Returns:
            Tensor: The output.
        """
        if self.is_fixed:
            return self._sum(x, self.choices)
        param = arch_param if arch_param is not None else self.arch_param
        if param is not None:
            return self._mixture(x, self.arch_probs(param))
        if self._chosen is not None:
            names = [self._chosen] if isinstance(self._chosen,
                                                 str) else self._chosen
            return self._sum(x, names)
        return self._sum(x, self.choices)

    def _sum(self, x: Any, names: List[str]) -> Tensor:
        outputs = [self._candidates[n](x) for n in names]
        return sum(outputs[1:], outputs[0])

    def _mixture(self, x: Any, probs: Tensor) -> Tensor:
        outputs = [
            p * op(x) for p, op in zip(probs, self._candidates.values())
            if p > 0
        ]
        return sum(outputs[1:], outputs[0])

    def _require_param(self, arch_param: Optional[Tensor]) -> Tensor:
        param = arch_param if arch_param is not None else self.arch_param
        if param is None:
            raise RuntimeError(
                f'{self._describe()} has no architecture parameter; prepare '
                'a NasMutator from the supernet (it creates and attaches '
                'one per search group) or pass `arch_param`')
        return param

    def extra_repr(self) -> str:
        fixed = ', fixed' if self.is_fixed else ''
        return f'alias={self.alias!r}, choices={self.choices}{fixed}'
