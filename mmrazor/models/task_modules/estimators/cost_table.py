# Copyright (c) OpenMMLab. All rights reserved.
"""Per-choice cost tables: FLOPs and params of any subnet without a forward.

In a supernet made of :class:`~mmrazor.models.mutables.OneShotMutableOP`
(or DSNAS's :class:`~mmrazor.models.mutables.OneHotMutableOP`) blocks whose
candidates all map the same input shape to the same output shape (the SPOS
ShuffleNetV2 space, for one), every shape in the network is
the same for every subnet. The cost of a subnet is then a sum:

    cost(subnet) = fixed + sum over search groups g of cost[g][subnet[g]]

where ``cost[g][c]`` is measured once by running candidate ``c`` of every
mutable of group ``g`` alone on the input shape recorded for it, and
``fixed`` (stem, head, everything outside the mutables) is the full
estimate at one subnet minus the costs of that subnet's choices. A search
then looks costs up instead of running a forward per candidate.

The counting conventions are those of
:class:`~mmrazor.models.task_modules.estimators.ResourceEstimator`, so
``table.estimate(choices)`` equals ``estimator.estimate(static_model)`` for
the static model exported at those choices.
"""
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from ...mutables import OneHotMutableOP, OneShotMutableOP
from .resource_estimator import SIZE_UNITS, ResourceEstimator

# (MACs per sample, parameters)
_Cost = Tuple[float, float]
_FORMAT = 'mmrazor.SubnetCostTable'
_SINGLE_OP_MUTABLES = (OneShotMutableOP, OneHotMutableOP)


def _call_op(op: nn.Module, inputs: Any) -> Any:
    return op(inputs)


class SubnetCostTable:
    """FLOPs and params of every subnet of a one-shot supernet by lookup.

    Build it with :meth:`build` (or ``ResourceEstimator.build_cost_table``);
    the constructor takes already measured costs, as :meth:`from_dict` does.

    Args:
        costs (dict): ``{group key: {choice: dict(flops=MACs per sample,
            params=count)}}``, raw counts.
        fixed (dict): ``dict(flops=..., params=...)``: the raw cost of
            everything outside the search groups.
        units (dict): Units of :meth:`estimate`'s results: ``flops`` and
            ``params`` in 'G', 'M', 'K' or None. Defaults to
            ``dict(flops='M', params='M')``.
        input_shape (tuple, optional): The input shape the costs hold for.
            Defaults to None.

    Examples:
        >>> import json
        >>> import torch.nn as nn
        >>> from mmrazor.models import NasMutator, OneShotMutableOP
        >>> from mmrazor.models.task_modules import ResourceEstimator
        >>> def block():
        ...     return OneShotMutableOP(candidates=nn.ModuleDict(dict(
        ...         conv3x3=nn.Conv2d(4, 4, 3, padding=1),
        ...         conv1x1=nn.Conv2d(4, 4, 1))))
        >>> supernet = nn.Sequential(block(), block())
        >>> mutator = NasMutator()
        >>> mutator.prepare_from_supernet(supernet)
        >>> estimator = ResourceEstimator(
        ...     input_shape=(1, 4, 8, 8), units=dict(flops=None, params=None))
        >>> table = SubnetCostTable.build(supernet, mutator, estimator)
        >>> choices = {'0': 'conv1x1', '1': 'conv1x1'}
        >>> table.estimate(choices)  # 2 x (4*4*64 MACs + 4*64 bias adds)
        {'flops': 2560.0, 'params': 40.0}
        >>> table = SubnetCostTable.from_dict(
        ...     json.loads(json.dumps(table.to_dict())))
        >>> table.estimate(choices)['flops']
        2560.0
    """

    def __init__(self,
                 costs: Dict[str, Dict[str, Dict[str, float]]],
                 fixed: Dict[str, float],
                 units: Dict[str, Optional[str]] = dict(
                     flops='M', params='M'),
                 input_shape: Optional[Tuple[int, ...]] = None) -> None:
        for key in ('flops', 'params'):
            if units.get(key) not in SIZE_UNITS:
                raise ValueError(
                    f'SubnetCostTable: units[{key!r}] must be one of '
                    f'{list(SIZE_UNITS)}, but got {units.get(key)!r}')
        self.units = dict(flops=units['flops'], params=units['params'])
        self.input_shape = tuple(input_shape) if input_shape else None
        self._fixed: _Cost = (float(fixed['flops']), float(fixed['params']))
        self._costs: Dict[str, Dict[str, _Cost]] = {
            key: {
                choice: (float(c['flops']), float(c['params']))
                for choice, c in per_choice.items()
            }
            for key, per_choice in costs.items()
        }
        self._scale = (SIZE_UNITS[self.units['flops']],
                       SIZE_UNITS[self.units['params']])

    @property
    def choices(self) -> Dict[str, List[str]]:
        """The choices of every search group, as the mutator lists them."""
        return {key: list(c) for key, c in self._costs.items()}

    def choice_costs(self, kind: str = 'flops') -> Dict[str, Dict[str, float]]:
        """The cost of every choice of every search group, in :attr:`units`.

        ``estimate(choices)`` is :meth:`fixed_cost` plus the sum of these
        over the chosen choices.

        Args:
            kind (str): 'flops' or 'params'. Defaults to 'flops'.

        Returns:
            dict: ``{group key: {choice: cost}}``.
        """
        index = self._kind_index(kind)
        return {
            key: {
                choice: c[index] / self._scale[index]
                for choice, c in per_choice.items()
            }
            for key, per_choice in self._costs.items()
        }

    def fixed_cost(self, kind: str = 'flops') -> float:
        """The cost outside the search groups, in :attr:`units`."""
        index = self._kind_index(kind)
        return self._fixed[index] / self._scale[index]

    @staticmethod
    def _kind_index(kind: str) -> int:
        if kind not in ('flops', 'params'):
            raise ValueError('SubnetCostTable: `kind` must be one of '
                             f"['flops', 'params'], but got {kind!r}")
        return 0 if kind == 'flops' else 1

    def estimate(self, choices: Dict[str, str]) -> Dict[str, float]:
        """FLOPs and params of the subnet ``choices`` by lookup.

        Args:
            choices (dict): ``{group key: choice}``, one per search group, as
                ``NasMutator.sample_choices`` returns.

        Returns:
            dict: ``flops`` and ``params`` in :attr:`units`.
        """
        flops, params = self._fixed
        costs = self._costs
        try:
            for key, choice in choices.items():
                f, p = costs[key][choice]
                flops += f
                params += p
        except (AttributeError, KeyError, TypeError):
            self._raise_bad_choices(choices)
        if len(choices) != len(costs):
            self._raise_bad_choices(choices)
        return dict(
            flops=flops / self._scale[0], params=params / self._scale[1])

    def _raise_bad_choices(self, choices: Any) -> None:
        if not isinstance(choices, dict):
            raise TypeError('SubnetCostTable.estimate: `choices` must be a '
                            f'dict {{group key: choice}}, but got {choices!r}')
        missing = sorted(set(self._costs) - set(choices))
        unknown = sorted(set(choices) - set(self._costs))
        if missing or unknown:
            raise KeyError(
                'SubnetCostTable.estimate needs one choice per search group. '
                f'Missing groups: {missing}; unknown groups: {unknown}. '
                f'The search groups are: {sorted(self._costs)}')
        for key, choice in choices.items():
            if choice not in self._costs[key]:
                raise ValueError(
                    f'SubnetCostTable.estimate: search group {key!r} got '
                    f'{choice!r}, which is not one of its choices: '
                    f'{list(self._costs[key])}')
        raise TypeError('SubnetCostTable.estimate: the choices must be '
                        f'hashable names, but got {choices!r}')

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-friendly dict (raw counts) that :meth:`from_dict` reads."""
        return dict(
            format=_FORMAT,
            units=dict(self.units),
            input_shape=list(self.input_shape) if self.input_shape else None,
            fixed=dict(flops=self._fixed[0], params=self._fixed[1]),
            costs={
                key: {
                    choice: dict(flops=c[0], params=c[1])
                    for choice, c in per_choice.items()
                }
                for key, per_choice in self._costs.items()
            })

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> 'SubnetCostTable':
        """Rebuild a table from :meth:`to_dict`'s output.

        Args:
            data (dict): The dict, e.g. read back from a JSON file.

        Returns:
            SubnetCostTable: The table.
        """
        if not isinstance(data, dict) or data.get('format') != _FORMAT:
            raise ValueError(
                'SubnetCostTable.from_dict expects the output of '
                f"SubnetCostTable.to_dict (with format={_FORMAT!r}), but got "
                f'{str(data)[:200]!r}')
        return cls(
            costs=data['costs'],
            fixed=data['fixed'],
            units=data['units'],
            input_shape=data.get('input_shape'))

    @classmethod
    def build(cls,
              supernet: nn.Module,
              mutator: Any,
              estimator: Optional[ResourceEstimator] = None,
              verify: bool = True) -> 'SubnetCostTable':
        """Measure the cost table of ``supernet``.

        Steps: set a probe subnet (the current choices, or the first choice
        of groups without one) and count the whole supernet once, recording
        the input shape of every mutable call; count every candidate alone on
        those shapes (on the meta device), checking that all candidates of a
        mutable give the same output shape; take ``fixed`` as the whole count
        minus the probe's choices. With ``verify``, a second subnet (another
        choice in every group) is counted in full and must equal the table.
        The supernet's choices are restored if every group had one; else
        it is left at the probe subnet.

        Args:
            supernet (nn.Module): The supernet (or the algorithm holding it)
                as ``estimator`` calls it.
            mutator (NasMutator): A mutator prepared from ``supernet``.
            estimator (ResourceEstimator, optional): Gives the input shape,
                units, forward and counters. Defaults to None:
                ``ResourceEstimator()``.
            verify (bool): Whether to check the table against a second full
                count. Defaults to True.

        Returns:
            SubnetCostTable: The table.

        Raises:
            TypeError: If a search group holds a mutable that is not a
                ``OneShotMutableOP`` or ``OneHotMutableOP`` (a one-hot
                mutable must have no architecture parameter attached while
                the table is built), or a mutable gets a non-tensor input.
            ValueError: If candidates of a mutable give different output
                shapes, or the costs are not additive: the table cannot
                represent such a search space.
        """
        estimator = estimator or ResourceEstimator()
        groups = mutator.search_groups
        _check_groups(supernet, mutator)
        saved = mutator.current_choices
        probe = {
            key: choice if choice is not None else mutator.choices[key][0]
            for key, choice in saved.items()
        }
        fp_cfg = estimator.flops_params_cfg
        batch = fp_cfg['input_shape'][0]
        mutables = [m for group in groups.values() for m in group]
        name_of = {id(m): n for n, m in mutator.mutables.items()}
        try:
            mutator.set_choices(probe)
            full = estimator.count(supernet, **fp_cfg, watch=mutables)
            costs = {
                key: _group_costs(key, group, mutator.choices[key], full,
                                  estimator, batch, name_of)
                for key, group in groups.items()
            }
            for key, group in groups.items():
                for mutable in group:
                    mutable.current_choice = probe[key]
            fixed = dict(
                flops=full.flops / batch -
                sum(costs[k][probe[k]]['flops'] for k in groups),
                params=full.params -
                sum(costs[k][probe[k]]['params'] for k in groups))
            table = cls(costs, fixed, estimator.units, fp_cfg['input_shape'])
            if verify:
                _verify(table, supernet, mutator, probe, estimator)
        finally:
            complete = all(choice is not None for choice in saved.values())
            mutator.set_choices(saved if complete else probe)
        return table


def _check_groups(supernet: nn.Module, mutator: Any) -> None:
    """Every mutable must run one op (OneShotMutableOP, or OneHotMutableOP
    without architecture parameter) and be inside ``supernet``."""
    inside = {id(m) for m in supernet.modules()}
    for name, mutable in mutator.mutables.items():
        if not isinstance(mutable, _SINGLE_OP_MUTABLES):
            raise TypeError(
                'SubnetCostTable supports search groups of OneShotMutableOP '
                f'or OneHotMutableOP only, but mutable {name!r} is a '
                f'{type(mutable).__name__}; estimate such subnets with '
                'ResourceEstimator.estimate')
        if getattr(mutable, 'arch_param', None) is not None:
            raise ValueError(
                f'SubnetCostTable: mutable {name!r} has an architecture '
                'parameter attached, so it runs its most probable op, not '
                'the choice the table counts; detach it first '
                '(set_arch_param(None)) and attach it again afterwards')
        if id(mutable) not in inside:
            raise ValueError(
                f'SubnetCostTable: mutable {name!r} of the mutator is not in '
                f'the given {type(supernet).__name__}; prepare the mutator '
                'from this supernet (mutator.prepare_from_supernet)')


def _group_costs(key: str, group: List[nn.Module], choices: List[str],
                 full: Any, estimator: ResourceEstimator, batch: int,
                 name_of: Dict[int, str]) -> Dict[str, Dict[str, float]]:
    """Raw cost of each choice of one search group: every mutable of the
    group runs that candidate alone on each input it got in ``full``."""
    op_cfg = {
        k: v
        for k, v in estimator.flops_params_cfg.items()
        if k in ('use_meta', 'disabled_counters', 'custom_counters')
    }
    per_choice = {}
    for choice in choices:
        flops = params = 0.0
        for mutable in group:
            mutable.current_choice = choice
            op = mutable.chosen_op()
            for i, (in_spec, out_spec) in enumerate(full.calls.get(
                    id(mutable), [])):
                if not (isinstance(in_spec, tuple) and len(in_spec) == 2
                        and isinstance(in_spec[1], torch.dtype)):
                    raise TypeError(
                        f'SubnetCostTable: mutable {name_of[id(mutable)]!r} '
                        f'got an input that is not one tensor ({in_spec!r}); '
                        'only tensor inputs can be replayed')
                res = estimator.count(
                    op,
                    input_shape=in_spec[0],
                    dtype=in_spec[1],
                    forward_fn=_call_op,
                    **op_cfg)
                if res.output != out_spec:
                    raise ValueError(
                        'SubnetCostTable cannot represent this search space: '
                        f'in group {key!r}, mutable '
                        f'{name_of[id(mutable)]!r} gives output {res.output} '
                        f'with choice {choice!r} but {out_spec} with the '
                        'probe choice, so the shapes (and costs) after it '
                        'depend on the choice. Use ResourceEstimator.estimate '
                        'on each subnet instead.')
                flops += res.flops / batch
                params += res.params if i == 0 else 0
        per_choice[choice] = dict(flops=flops, params=params)
    return per_choice


def _verify(table: SubnetCostTable, supernet: nn.Module, mutator: Any,
            probe: Dict[str, str], estimator: ResourceEstimator) -> None:
    """Count a second subnet in full and compare it with the table."""
    other = {
        key: choices[(choices.index(probe[key]) + 1) % len(choices)]
        for key, choices in mutator.choices.items()
    }
    mutator.set_choices(other)
    fp_cfg = estimator.flops_params_cfg
    full = estimator.count(supernet, **fp_cfg)
    scale = table._scale
    expected = (full.flops / fp_cfg['input_shape'][0] / scale[0],
                full.params / scale[1])
    got = table.estimate(other)
    for (name, value), ref in zip(got.items(), expected):
        if abs(value - ref) > 1e-9 * max(abs(ref), 1.0):
            raise ValueError(
                'SubnetCostTable cannot represent this search space: the '
                f'full count of subnet {other} gives {name}={ref}, but the '
                f'table sums to {value}. The cost outside the mutables '
                'depends on the choices; use ResourceEstimator.estimate on '
                'each subnet instead.')
