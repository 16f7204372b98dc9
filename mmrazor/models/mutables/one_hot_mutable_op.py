# Copyright (c) OpenMMLab. All rights reserved.
"""The DSNAS mutable: one op sampled from a learnt categorical."""
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
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
from .diff_mutable_op import static_ops


@MODELS.register_module()
class OneHotMutableOP(ArchParamHolder, BaseMutable):
    """Runs one candidate op sampled from ``softmax(alpha)`` (DSNAS).

    Hu et al., "DSNAS: Direct Neural Architecture Search without Parameter
    Retraining", CVPR 2020 (https://arxiv.org/abs/2002.09128).

    In training, each forward draws a one-hot ``Z ~ Categorical(softmax(
    alpha))`` and returns ``Z[s] * op_s(x)`` for the sampled ``s``; ``Z`` is
    kept as :attr:`arch_weights` (a leaf that requires grad), so after the
    backward pass ``arch_weights.grad[s]`` is the credit ``dL/dZ_s`` that
    :class:`~mmrazor.models.algorithms.DSNAS` turns into the architecture
    gradient. In eval mode the most probable op runs.

    Early fixing: once the top probability exceeds the second by at least
    ``fix_threshold``, a training forward fixes the mutable to the
    **most probable** op (the original MMRazor fixed it to the candidate
    at index 1, whatever the probabilities).

    Args:
        candidates (dict[str, dict | nn.Module] | nn.ModuleDict): The named
            candidate ops.
        fix_threshold (float): Probability margin that fixes the mutable
            early, in [0, 1]; 1.0 never fixes early. Defaults to 1.0.
        random_sample (bool): Whether ``Z`` is drawn uniformly instead of
            from the probabilities (a uniform warm-up). Defaults to False.
        module_kwargs (dict, optional): Merged into every candidate config.
            Defaults to None.
        alias (str, optional): Search-group name. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 candidates: CandidatesType,
                 fix_threshold: float = 1.0,
                 random_sample: bool = False,
                 module_kwargs: Optional[Dict[str, Any]] = None,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        if not 0 <= fix_threshold <= 1:
            raise ValueError(f'{self._describe()}: `fix_threshold` must be in'
                             f' [0, 1], but got {fix_threshold!r}')
        self.fix_threshold = fix_threshold
        self.random_sample = random_sample
        self.module_kwargs = dict(module_kwargs or {})
        self._candidates = build_candidates(self._describe(), candidates,
                                            self.module_kwargs)
        self._chosen: Optional[str] = None
        #: The last one-hot sample ``Z`` (training forwards only).
        self.arch_weights: Optional[Tensor] = None
        #: The index of the last sampled op.
        self.sampled_index: Optional[int] = None

    @property
    def choices(self) -> List[str]:
        """The candidate names, in the given order."""
        return list(self._candidates.keys())

    @property
    def arch_param_size(self) -> int:
        """Entries of the architecture parameter (0 once fixed)."""
        return 0 if self.is_fixed else self.num_choices

    @property
    def current_choice(self) -> Optional[str]:
        """The set (or fixed) op name, or None."""
        return self._chosen

    @current_choice.setter
    def current_choice(self, choice: Optional[str]) -> None:
        """Set the op a forward without architecture parameter runs; None
        clears it (the forward then sums every candidate)."""
        if choice is not None:
            self.check_choice(choice)
        self._chosen = choice

    def chosen_op(self) -> nn.Module:
        """The module of the current choice (what a cost table counts)."""
        if self._chosen is None:
            raise RuntimeError(
                f'{self._describe()} has no current choice; set '
                f'`current_choice` to one of {self.choices} first')
        return self._candidates[self._chosen]

    def arch_probs(self) -> Tensor:
        """Softmax of the attached architecture parameter."""
        if self.arch_param is None:
            raise RuntimeError(
                f'{self._describe()} has no architecture parameter; prepare '
                'a NasMutator from the supernet (it attaches one per group)')
        return F.softmax(self.arch_param, dim=-1)

    def derive_choice(self, exclude: Sequence[str] = ()) -> str:
        """The most probable op (leaving out ``exclude``)."""
        if self.is_fixed:
            return self.choices[0]
        return argmax_name(self.arch_probs(), self.choices, exclude)

    def edge_strength(self, exclude: Sequence[str] = ()) -> float:
        """The largest probability among ops not in ``exclude`` (how a
        route without a parameter ranks its edges)."""
        if self.is_fixed:
            return 1.
        probs = self.arch_probs().detach()
        keep = [i for i, n in enumerate(self.choices) if n not in exclude]
        return float(probs[keep].max()) if keep else float(probs.max())

    def should_fix(self) -> bool:
        """Whether top1 - top2 probability reaches ``fix_threshold``."""
        if self.num_choices < 2:
            return True
        top = torch.topk(self.arch_probs().detach(), 2).values
        return bool(top[0] - top[1] >= self.fix_threshold)

    def fix_chosen(self, chosen: Union[str, Sequence[str]]) -> None:
        """Keep only the op ``chosen`` (a name, or a list of one name).

        Args:
            chosen (str | list[str]): The op.
        """
        if self.is_fixed:
            names = [chosen] if isinstance(chosen, str) else list(chosen)
            if names != self.choices:
                raise AttributeError(
                    f'{self._describe()} is already fixed to '
                    f'{self.choices[0]!r}; it cannot be fixed to {names[0]!r}')
            return
        names = as_name_list(self._describe(), chosen, self.choices)
        if len(names) != 1:
            raise ValueError(f'{self._describe()} runs one op; it cannot be '
                             f'fixed to {names}')
        for name in self.choices:
            if name != names[0]:
                del self._candidates[name]
        self._chosen = names[0]
        self.set_arch_param(None)
        self.arch_weights = None
        self.is_fixed = True

    def dump_chosen(self) -> DumpChosen:
        """The chosen op (derived from the parameter if none is set)."""
        chosen = self._chosen
        if chosen is None and self.arch_param is not None:
            chosen = self.derive_choice()
        if chosen is None:
            raise RuntimeError(f'{self._describe()} has no choice to dump')
        return DumpChosen(chosen=chosen, meta=dict(all_choices=self.choices))

    def to_static_op(self) -> nn.Module:
        """A plain module running the chosen op, same ``state_dict`` keys."""
        if self._chosen is None:
            raise RuntimeError(f'{self._describe()} has no choice; fix it or'
                               ' set `current_choice` before export')
        return static_ops({self._chosen: self._candidates[self._chosen]})

    def forward(self, x: Any) -> Tensor:
        """Run the fixed op, or a sampled op scaled by ``Z[s]`` (see the
        class docstring); without a parameter, the set choice or the sum of
        all candidates."""
        if self.is_fixed:
            return self._candidates[self.choices[0]](x)
        if self.arch_param is None:
            if self._chosen is not None:
                return self._candidates[self._chosen](x)
            outputs = [op(x) for op in self._candidates.values()]
            return sum(outputs[1:], outputs[0])
        if not self.training:
            return self._candidates[self.derive_choice()](x)
        if self.fix_threshold < 1 and self.should_fix():
            self.fix_chosen(self.derive_choice())
            return self._candidates[self.choices[0]](x)
        probs = self.arch_probs().detach()
        weights = torch.ones_like(probs) if self.random_sample else probs
        index = int(torch.multinomial(weights, 1))
        z = F.one_hot(torch.tensor(index, device=probs.device),
                      self.num_choices).to(probs.dtype).requires_grad_()
        self.arch_weights = z
        self.sampled_index = index
        return z[index] * self._candidates[self.choices[index]](x)

    def extra_repr(self) -> str:
        fixed = ', fixed' if self.is_fixed else ''
        return (f'alias={self.alias!r}, choices={self.choices}, '
                f'fix_threshold={self.fix_threshold}{fixed}')
