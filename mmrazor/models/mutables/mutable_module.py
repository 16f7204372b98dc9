# Copyright (c) OpenMMLab. All rights reserved.
"""Mutables that choose among candidate modules."""
import copy
import warnings
from abc import abstractmethod
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Union

import torch.nn as nn
from torch import Tensor

from mmrazor.registry import MODELS, in_mmrazor_scope
from mmrazor.utils import DumpChosen

from ._diff_common import suggest_registered
from .base_mutable import BaseMutable

CandidatesType = Union[Dict[str, Union[Dict, nn.Module]], nn.ModuleDict]


class MutableModule(BaseMutable):
    """Base of mutables that choose among modules (the original MMRazor's
    ``MutableModule``).

    Subclasses run a fixed, a chosen or every candidate through
    :meth:`forward_fixed`, :meth:`forward_choice` and :meth:`forward_all`.

    Args:
        module_kwargs (dict, optional): Keyword arguments merged into every
            candidate config. Defaults to None.
        alias (str, optional): Search-group name shared with other mutables.
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 module_kwargs: Optional[Dict[str, Any]] = None,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        self.module_kwargs = dict(module_kwargs or {})

    @abstractmethod
    def forward_fixed(self, x: Any) -> Any:
        """Run the candidate the mutable is fixed to."""

    @abstractmethod
    def forward_choice(self, x: Any, choice: Any) -> Any:
        """Run the candidate ``choice``."""

    @abstractmethod
    def forward_all(self, x: Any) -> Any:
        """Run every candidate and combine their outputs."""


class OneShotMutableModule(MutableModule):
    """A module mutable of one-shot NAS: one path at a time (the original
    MMRazor's ``OneShotMutableModule``).

    ``forward`` runs :meth:`forward_fixed` once fixed,
    :meth:`forward_choice` when a choice is set, else :meth:`forward_all`.
    """

    def forward(self, x: Any) -> Any:
        """Run the fixed, the chosen or every candidate (see the class)."""
        if self.is_fixed:
            return self.forward_fixed(x)
        if self.current_choice is None:
            return self.forward_all(x)
        return self.forward_choice(x, self.current_choice)


@MODELS.register_module()
class OneShotMutableOP(OneShotMutableModule):
    """Chooses one op among named candidates, as in one-shot NAS (SPOS).

    Each candidate is an op config (built through ``MODELS``, with
    ``module_kwargs`` merged into it) or a built module.

    What ``forward`` runs:

    - after ``fix_chosen``: the only candidate left;
    - when ``current_choice`` is set: that candidate alone (a single path);
    - when no choice has been set yet (a freshly built supernet): every
      candidate, returning the sum of their outputs, so that each candidate
      is used and receives gradients. Set a choice (for example with
      :class:`mmrazor.models.mutators.NasMutator`) to run a single path.

    Args:
        candidates (dict[str, dict | nn.Module] | nn.ModuleDict): The named
            candidate ops. Must be non-empty.
        module_kwargs (dict, optional): Keyword arguments merged into every
            candidate config, such as ``in_channels``, ``out_channels`` and
            ``stride``; a key also present in a candidate config overrides
            it. Defaults to None.
        alias (str, optional): Search-group name shared with other mutables.
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> op = OneShotMutableOP(
        ...     candidates=dict(
        ...         shuffle_3x3=dict(type='ShuffleBlock', kernel_size=3),
        ...         shuffle_xception=dict(type='ShuffleXception')),
        ...     module_kwargs=dict(in_channels=16, out_channels=32, stride=2))
        >>> op.choices
        ['shuffle_3x3', 'shuffle_xception']
        >>> op.current_choice = 'shuffle_3x3'
    """

    def __init__(self,
                 candidates: CandidatesType,
                 module_kwargs: Optional[Dict[str, Any]] = None,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(module_kwargs=module_kwargs, alias=alias,
                         init_cfg=init_cfg)
        if not isinstance(candidates, (dict, nn.ModuleDict)):
            raise TypeError(
                f'{self._describe()}: `candidates` must be a dict of op '
                f'configs or an nn.ModuleDict, but got {type(candidates)}')
        if len(candidates) == 0:
            raise ValueError(
                f'{self._describe()}: `candidates` is empty; give at least '
                'one named op config, e.g. candidates=dict(shuffle_3x3=dict('
                "type='ShuffleBlock', kernel_size=3))")
        self._candidates = nn.ModuleDict(
            OrderedDict((name, self._build_candidate(name, op))
                        for name, op in candidates.items()))
        self._chosen: Optional[str] = None

    def _build_candidate(self, name: str, op: Union[Dict,
                                                    nn.Module]) -> nn.Module:
        """Build one candidate from its config, merging ``module_kwargs``."""
        if isinstance(op, nn.Module):
            return op
        if not isinstance(op, dict) or 'type' not in op:
            raise TypeError(
                f'{self._describe()}: candidate {name!r} must be a module or '
                f"a config dict with a 'type' key, but got {op!r}")
        cfg = copy.deepcopy(dict(op))
        cfg.update(self.module_kwargs)
        op_type = cfg['type']
        if isinstance(op_type, str) and MODELS.get(op_type) is None:
            raise KeyError(
                f'{self._describe()}: candidate {name!r} has type '
                f'{op_type!r}, which is not registered in the mmrazor MODELS '
                f'registry.{suggest_registered(op_type)} Check the spelling, '
                'or register the op with @MODELS.register_module() and '
                'import its module (e.g. through custom_imports).')
        return MODELS.build(in_mmrazor_scope(cfg))

    @property
    def choices(self) -> List[str]:
        """The names of the candidates, in the order they were given."""
        return list(self._candidates.keys())

    @property
    def current_choice(self) -> Optional[str]:
        """The name of the chosen candidate, or None if none is set."""
        return self._chosen

    @current_choice.setter
    def current_choice(self, choice: str) -> None:
        self.check_choice(choice)
        self._chosen = choice

    def fix_chosen(self, chosen: str) -> None:
        """Keep only the candidate ``chosen`` and delete the others.

        Args:
            chosen (str): The name of a candidate.
        """
        if self.is_fixed and chosen != self._chosen:
            raise AttributeError(
                f'{self._describe()} is already fixed to {self._chosen!r}; '
                f'it cannot be fixed to {chosen!r}')
        self.check_choice(chosen)
        for name in self.choices:
            if name != chosen:
                del self._candidates[name]
        self._chosen = chosen
        self.is_fixed = True

    def dump_chosen(self) -> DumpChosen:
        """Return the chosen candidate's name, with all names as ``meta``."""
        if self._chosen is None:
            raise RuntimeError(
                f'{self._describe()} has no current choice to dump; set '
                f'`current_choice` to one of {self.choices} first')
        return DumpChosen(
            chosen=self._chosen, meta=dict(all_choices=self.choices))

    def chosen_op(self) -> nn.Module:
        """Return the module of the current choice."""
        if self._chosen is None:
            raise RuntimeError(
                f'{self._describe()} has no current choice; set '
                f'`current_choice` to one of {self.choices} first')
        return self._candidates[self._chosen]

    def to_static_op(self) -> nn.Module:
        """Return a plain torch module that runs only the chosen op.

        The result is ``nn.Sequential`` holding ``_candidates`` (another
        ``nn.Sequential``) holding the chosen op under its name, so its
        ``state_dict`` keys equal this mutable's keys for the chosen op and a
        supernet checkpoint loads into it unchanged.
        """
        name = self._chosen
        op = self.chosen_op()
        inner = nn.Sequential(OrderedDict([(name, op)]))
        return nn.Sequential(OrderedDict([('_candidates', inner)]))

    def forward_fixed(self, x: Any) -> Any:
        """Run the only candidate left after ``fix_chosen``."""
        return self._candidates[self._chosen](x)

    def forward_choice(self, x: Any, choice: Optional[str] = None) -> Any:
        """Run the candidate ``choice`` (the current one by default)."""
        choice = self._chosen if choice is None else choice
        if choice is None:
            raise RuntimeError(
                f'{self._describe()} has no current choice; give `choice` '
                f'or set `current_choice` to one of {self.choices}')
        self.check_choice(choice)
        return self._candidates[choice](x)

    def forward_all(self, x: Any) -> Any:
        """Run every candidate and return the sum of their outputs."""
        outputs: List[Tensor] = [op(x) for op in self._candidates.values()]
        return sum(outputs[1:], outputs[0])

    def forward(self, x: Any) -> Any:
        """Run the chosen candidate, or all of them summed if none is set.

        Args:
            x: The input of the candidates.

        Returns:
            The output of the chosen candidate, or the sum of the outputs of
            all candidates when no choice has been set.
        """
        if self._chosen is not None:
            return self._candidates[self._chosen](x)
        if not self.training:
            warnings.warn(
                'OneShotMutableOP has no current choice: it runs every '
                'candidate and sums their outputs, which is not a subnet. '
                'Set a subnet first (NasMutator.set_choices, or '
                'load_fix_subnet) to evaluate a single path.',
                stacklevel=2)
        return self.forward_all(x)

    def extra_repr(self) -> str:
        fixed = ', fixed' if self.is_fixed else ''
        return f'alias={self.alias!r}, current_choice={self._chosen!r}{fixed}'


# The original MMRazor's module path ``mutables.mutable_module`` also held
# the differentiable mutables; these are their homes here.
from ._diff_common import ArchParamHolder as DiffMutableModule  # noqa: E402
from .diff_choice_route import DiffChoiceRoute  # noqa: E402,F401
from .diff_mutable_op import DiffMutableOP  # noqa: E402,F401
from .one_hot_mutable_op import OneHotMutableOP  # noqa: E402,F401

__all__ = [
    'MutableModule', 'OneShotMutableModule', 'OneShotMutableOP',
    'DiffMutableModule', 'DiffMutableOP', 'DiffChoiceRoute',
    'OneHotMutableOP'
]
