# Copyright (c) OpenMMLab. All rights reserved.
"""The mutator of neural architecture search."""
import math
import random
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmrazor.registry import MODELS

from ..mutables import BaseMutable

_KINDS = ('random', 'min', 'max')
_ORDERED_ATTRS = {'min': 'min_choice', 'max': 'max_choice'}


@MODELS.register_module()
class NasMutator(BaseModule):
    """Finds the mutables of a supernet and samples, sets and reads subnets.

    Mutables are put in *search groups*: all mutables sharing an ``alias``
    form one group keyed by that alias; every other mutable is a group of its
    own keyed by its module name in the supernet. All mutables of a group
    always take the same choice. A subnet is a dict ``{group key: choice}``.

    Call :meth:`prepare_from_supernet` once before anything else.

    Differentiable mutables (those with a positive ``arch_param_size``, such
    as :class:`~mmrazor.models.mutables.DiffMutableOP`) get one architecture
    parameter per search group, created here (``randn * 1e-3``) in
    :attr:`arch_params` and attached to every mutable of the group, so
    mutables sharing an alias share it. They are the mutator's only
    parameters: a ``SeparateOptimWrapperConstructor`` entry ``mutator=...``
    gives them their own optimizer.

    Args:
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> import torch.nn as nn
        >>> from mmrazor.models import OneShotMutableOP
        >>> def block():
        ...     return OneShotMutableOP(candidates=nn.ModuleDict(dict(
        ...         conv3x3=nn.Conv2d(4, 4, 3, padding=1),
        ...         conv1x1=nn.Conv2d(4, 4, 1))))
        >>> supernet = nn.Sequential(block(), block())
        >>> mutator = NasMutator()
        >>> mutator.prepare_from_supernet(supernet)
        >>> mutator.choices
        {'0': ['conv3x3', 'conv1x1'], '1': ['conv3x3', 'conv1x1']}
        >>> mutator.search_space_size
        4
        >>> subnet = mutator.sample_choices()  # {'0': ..., '1': ...}
        >>> mutator.set_choices(dict(subnet, **{'1': 'conv1x1'}))
        >>> supernet[1].current_choice
        'conv1x1'
    """

    def __init__(self, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self._search_groups: Optional[Dict[str, List[BaseMutable]]] = None
        self._names: Dict[int, str] = {}
        self.arch_params = nn.ParameterDict()
        self._arch_keys: Dict[str, str] = {}
        self._sampling: Dict[str, List[Any]] = {}

    def prepare_from_supernet(self, supernet: nn.Module) -> None:
        """Collect the mutables of ``supernet`` and build the search groups.

        Fixed mutables are left out: they no longer take part in the search.

        Args:
            supernet (nn.Module): The model holding the mutables.

        Raises:
            ValueError: If mutables sharing an alias have different choices.
        """
        groups: Dict[str, List[BaseMutable]] = {}
        self._names = {}
        for name, module in supernet.named_modules():
            if not isinstance(module, BaseMutable) or module.is_fixed:
                continue
            self._names[id(module)] = name
            key = module.alias if module.alias is not None else name
            groups.setdefault(key, []).append(module)
        for key, mutables in groups.items():
            first = mutables[0]
            for other in mutables[1:]:
                if other.choices != first.choices:
                    raise ValueError(
                        f'Mutables with alias {key!r} must have the same '
                        f'choices, but {self._names[id(first)]!r} has '
                        f'{first.choices} and {self._names[id(other)]!r} has '
                        f'{other.choices}')
        self._search_groups = groups
        self._prepare_arch_params()

    def _prepare_arch_params(self) -> None:
        """One parameter per group of differentiable mutables, attached to
        them; a parameter of the same key and size is kept (re-preparing
        does not reset a search)."""
        old = dict(self.arch_params.items())
        self.arch_params = nn.ParameterDict()
        self._arch_keys = {}
        for key, mutables in self.search_groups.items():
            size = getattr(mutables[0], 'arch_param_size', 0)
            if not size:
                continue
            sizes = {getattr(m, 'arch_param_size', 0) for m in mutables}
            if len(sizes) != 1:
                raise ValueError(
                    f'Mutables of search group {key!r} need architecture '
                    f'parameters of different sizes {sorted(sizes)}; give '
                    'differentiable mutables of different shapes different '
                    'aliases')
            param_key = key.replace('.', '_')
            if param_key in self.arch_params:
                raise ValueError(
                    f'Search groups {key!r} and another one both map to the '
                    f'architecture parameter name {param_key!r}; rename one '
                    'alias')
            param = old.get(param_key)
            if param is None or param.numel() != size:
                param = nn.Parameter(torch.randn(size) * 1e-3)
            self.arch_params[param_key] = param
            self._arch_keys[key] = param_key
            for mutable in mutables:
                mutable.set_arch_param(param)

    def arch_param(self, group: str) -> nn.Parameter:
        """The architecture parameter of search group ``group``."""
        if group not in self._arch_keys:
            raise KeyError(
                f'NasMutator: search group {group!r} has no architecture '
                'parameter; the groups with one are '
                f'{sorted(self._arch_keys)}')
        return self.arch_params[self._arch_keys[group]]

    def derive_choices(self,
                       exclude: Sequence[str] = ('zero', )) -> Dict[str, Any]:
        """The subnet the architecture parameters point at.

        Groups whose mutables have ``derive_choice`` (the differentiable
        ones) get the choice it derives (e.g. the most probable op, leaving
        out ``exclude``, and the strongest edges of a node); the other
        groups keep their current choice.

        Args:
            exclude (sequence[str]): Op names that may not be derived.
                Defaults to ``('zero',)``, the DARTS paper's rule; pass
                ``()`` to let ``zero`` win.

        Returns:
            dict: ``{group key: choice}``.
        """
        choices = {}
        for key, group in self.search_groups.items():
            derive = getattr(group[0], 'derive_choice', None)
            choices[key] = derive(exclude) if derive is not None \
                else group[0].current_choice
        return choices

    @property
    def search_groups(self) -> Dict[str, List[BaseMutable]]:
        """The search groups: ``{group key: [mutables]}``."""
        if self._search_groups is None:
            raise RuntimeError(
                'NasMutator has no search groups yet; call '
                '`prepare_from_supernet(supernet)` first')
        return self._search_groups

    @property
    def mutables(self) -> Dict[str, BaseMutable]:
        """Every mutable in the search space by its module name."""
        return {
            self._names[id(m)]: m
            for group in self.search_groups.values() for m in group
        }

    @property
    def choices(self) -> Dict[str, List[Any]]:
        """The choices of every search group."""
        return {
            key: group[0].choices
            for key, group in self.search_groups.items()
        }

    @property
    def search_space_size(self) -> int:
        """The number of distinct subnets in the search space."""
        return math.prod(len(c) for c in self.choices.values())

    def sample_choices(self, kind: str = 'random') -> Dict[str, Any]:
        """Draw one choice per search group.

        Groups restricted by :meth:`restrict_sampling` draw from (or take
        the smallest / largest of) their allowed choices.

        Args:
            kind (str): ``'random'`` draws uniformly; ``'min'`` / ``'max'``
                take the smallest / largest choice, for mutables whose choices
                are ordered (they have ``min_choice`` / ``max_choice``).
                Defaults to ``'random'``.

        Returns:
            dict: ``{group key: choice}``.
        """
        if kind not in _KINDS:
            raise ValueError(f'NasMutator.sample_choices: `kind` must be one '
                             f'of {list(_KINDS)}, but got {kind!r}')
        subnet = {}
        for key, group in self.search_groups.items():
            mutable = group[0]
            allowed = self._sampling.get(key)
            if allowed is not None:
                subnet[key] = random.choice(allowed) if kind == 'random' \
                    else (min(allowed) if kind == 'min' else max(allowed))
                continue
            if kind == 'random':
                subnet[key] = mutable.sample_choice()
                continue
            attr = _ORDERED_ATTRS[kind]
            if not hasattr(mutable, attr):
                raise ValueError(
                    f'NasMutator.sample_choices(kind={kind!r}): search group '
                    f'{key!r} is a {type(mutable).__name__}, whose choices '
                    f'{mutable.choices} have no order; use kind="random"')
            subnet[key] = getattr(mutable, attr)
        return subnet

    def restrict_sampling(
            self, allowed: Optional[Dict[str, Sequence[Any]]]) -> None:
        """Let :meth:`sample_choices` draw from part of some groups' choices.

        Schedules that grow the space while training (Once-for-All's
        progressive shrinking, see
        :class:`~mmrazor.engine.hooks.ProgressiveShrinkingHook`) call it;
        :meth:`set_choices` and the search space itself are unchanged.

        Args:
            allowed (dict, optional): ``{group key: choices}``, each a
                non-empty subset of its group's choices; the groups it does
                not name draw from all their choices. None lifts every
                restriction.

        Raises:
            KeyError: If a key is no search group.
            ValueError: If a subset is empty or holds other choices.
        """
        if allowed is None:
            self._sampling = {}
            return
        groups = self.search_groups
        restricted: Dict[str, List[Any]] = {}
        for key, subset in allowed.items():
            if key not in groups:
                raise KeyError(
                    f'NasMutator.restrict_sampling: {key!r} is no search '
                    f'group; the groups are {sorted(groups)}')
            choices = groups[key][0].choices
            subset = list(subset)
            wrong = [c for c in subset if c not in choices]
            if not subset or wrong:
                raise ValueError(
                    f'NasMutator.restrict_sampling: group {key!r} must get '
                    f'a non-empty subset of its choices {choices}, but got '
                    f'{subset}')
            restricted[key] = subset
        self._sampling = restricted

    @property
    def sampling_restrictions(self) -> Dict[str, List[Any]]:
        """``{group key: allowed choices}`` of the restricted groups."""
        return {k: list(v) for k, v in self._sampling.items()}

    def set_choices(self, choices: Dict[str, Any]) -> None:
        """Set the choice of every search group.

        Args:
            choices (dict): ``{group key: choice}`` with one entry per search
                group, as :meth:`sample_choices` returns.

        Raises:
            KeyError: If a group is missing or unknown.
            ValueError: If a choice is not one of its group's choices.
        """
        groups = self.search_groups
        missing = sorted(set(groups) - set(choices))
        unknown = sorted(set(choices) - set(groups))
        if missing or unknown:
            raise KeyError(
                'NasMutator.set_choices needs one choice per search group. '
                f'Missing groups: {missing}; unknown groups: {unknown}. '
                f'The search groups are: {sorted(groups)}')
        for key, choice in choices.items():
            allowed = groups[key][0].choices
            if isinstance(choice, (list, tuple)) and hasattr(
                    groups[key][0], 'check_choice'):
                # mutables choosing several names (DARTS routes) check lists
                groups[key][0].check_choice(choice)
            elif choice not in allowed:
                raise ValueError(
                    f'NasMutator.set_choices: search group {key!r} got '
                    f'{choice!r}, which is not one of its choices: {allowed}')
            for mutable in groups[key]:
                mutable.current_choice = choice

    @property
    def current_choices(self) -> Dict[str, Any]:
        """The current choice of every search group."""
        return {
            key: group[0].current_choice
            for key, group in self.search_groups.items()
        }
