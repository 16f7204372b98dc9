# Copyright (c) OpenMMLab. All rights reserved.
"""The mutator of channel search and pruning."""
from typing import Any, Dict, List, Optional, Union

import torch.nn as nn
from mmengine.model import BaseModule

from mmrazor.registry import MODELS, TASK_UTILS, in_mmrazor_scope
from mmrazor.utils.dict_file import DictSource, load_dict

from ..architectures.dynamic_ops import DYNAMIC_OF, DynamicOpMixin
from ..mutables import MutableChannelContainer, MutableChannelUnit

_KINDS = ('random', 'min', 'max')
_CONFIG_PARSERS = ('Config', 'Predefined')


def _load_units(units: DictSource) -> Dict[str, Dict]:
    """Unit configs from a dict, or a json / yaml file (read safely)."""
    units = load_dict(units, 'units', '{unit_name: config}')
    return {name: dict(cfg) for name, cfg in units.items()}


def _dynamic_type(module: nn.Module) -> Optional[type]:
    return DYNAMIC_OF.get(type(module))


def _side_size(module: nn.Module, side: str) -> int:
    if isinstance(module, nn.Linear):
        return module.in_features if side == 'in_channels' else \
            module.out_features
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return module.num_features
    if isinstance(module, nn.LayerNorm):
        return module.normalized_shape[0]
    return getattr(module, side)


@MODELS.register_module()
class ChannelMutator(BaseModule):
    """Finds the channel units of a model and samples or sets their widths.

    :meth:`prepare_from_supernet` gets the unit configs (from a
    ``ChannelAnalyzer`` run on the model, or from ``channel_unit_cfg.units``
    when ``parse_cfg.type`` is ``'Config'``), turns every layer a unit
    touches into its dynamic op (in place), and registers each unit's
    mutable channel in those layers. Units that cannot be pruned (a layer
    without a dynamic op, a grouped convolution) are left out and listed in
    :attr:`excluded` with the reason.

    Args:
        channel_unit_cfg (dict): ``type`` of the units (e.g.
            ``'SequentialMutableChannelUnit'``), ``default_args`` for all of
            them and ``units``: per-unit configs (dict or json/yaml path)
            whose ``init_args`` and ``choice`` override the defaults.
        parse_cfg (dict): ``dict(type='ChannelAnalyzer', demo_input=...,
            tracer_type=...)`` (default) or ``dict(type='Config')`` to take
            the units, with their ``channels``, from ``channel_unit_cfg``.
        custom_groups (list[list[str]], optional): Unit names that always
            take the same choice (one search group each). Defaults to None.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 channel_unit_cfg: Dict = dict(
                     type='SequentialMutableChannelUnit'),
                 parse_cfg: Dict = dict(
                     type='ChannelAnalyzer',
                     demo_input=(1, 3, 224, 224),
                     tracer_type='BackwardTracer'),
                 custom_groups: Optional[List[List[str]]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        channel_unit_cfg = dict(channel_unit_cfg)
        unit_type = channel_unit_cfg.pop('type',
                                         'SequentialMutableChannelUnit')
        self.unit_class = MODELS.get(unit_type) if isinstance(
            unit_type, str) else unit_type
        if self.unit_class is None or not issubclass(self.unit_class,
                                                     MutableChannelUnit):
            raise ValueError(
                f'ChannelMutator: channel_unit_cfg.type {unit_type!r} is not '
                'a registered MutableChannelUnit (e.g. '
                "'SequentialMutableChannelUnit', 'L1MutableChannelUnit', "
                "'OneShotMutableChannelUnit')")
        self.default_args = dict(channel_unit_cfg.pop('default_args', {}))
        self.units_cfg = _load_units(channel_unit_cfg.pop('units', None))
        if channel_unit_cfg:
            raise ValueError('ChannelMutator: unknown channel_unit_cfg keys '
                             f'{sorted(channel_unit_cfg)}; allowed: type, '
                             'default_args, units')
        self.parse_cfg = dict(parse_cfg)
        self.custom_groups = custom_groups or []
        self.units = nn.ModuleList()
        self.excluded: List[Dict[str, Any]] = []
        self._prepared = False

    # ------------------------------------------------------------ preparing
    def _parse(self, model: nn.Module) -> Dict[str, Dict]:
        kind = self.parse_cfg.get('type')
        if kind in _CONFIG_PARSERS:
            missing = [n for n, c in self.units_cfg.items()
                       if 'channels' not in c]
            if not self.units_cfg or missing:
                raise ValueError(
                    f'ChannelMutator: parse_cfg type {kind!r} takes the units'
                    ' from channel_unit_cfg.units, which must give '
                    f'`channels` for every unit; missing for {missing[:5]}')
            return {n: dict(c) for n, c in self.units_cfg.items()}
        analyzer = TASK_UTILS.build(in_mmrazor_scope(self.parse_cfg))
        found = analyzer.analyze(model)
        self.excluded.extend(getattr(analyzer, 'report', []))
        unknown = sorted(set(self.units_cfg) - set(found))
        if unknown:
            raise KeyError(
                f'ChannelMutator: channel_unit_cfg.units names {unknown[:5]},'
                ' which are not prunable units of this model; its units are '
                f'e.g. {list(found)[:5]} (see ChannelAnalyzer.summary())')
        for name, cfg in found.items():
            override = self.units_cfg.get(name, {})
            cfg = dict(cfg)
            cfg['init_args'] = dict(cfg.get('init_args', {}),
                                    **override.get('init_args', {}))
            if 'choice' in override:
                cfg['choice'] = override['choice']
            found[name] = cfg
        return found

    def _convert(self, model: nn.Module, name: str) -> Optional[str]:
        """Make layer ``name`` dynamic; return why it cannot be, or None."""
        module = model.get_submodule(name)
        if not isinstance(module, DynamicOpMixin):
            dynamic = _dynamic_type(module)
            if dynamic is None:
                cls = type(module)
                return (f'{cls.__module__}.{cls.__qualname__} has no dynamic '
                        'op; subclasses of supported layers are not '
                        'converted, since their forward may differ (known: '
                        f'{sorted(t.__qualname__ for t in DYNAMIC_OF)})')
            try:
                new = dynamic.convert_from(module)
            except ValueError as error:
                return str(error)
            new.train(module.training)
            parent_name, _, attr = name.rpartition('.')
            setattr(model.get_submodule(parent_name), attr, new)
            module = new
        for side in ('in_channels', 'out_channels'):
            if module.get_mutable_attr(side) is not None:
                continue
            container = MutableChannelContainer(_side_size(module, side))
            try:
                module.register_mutable_attr(side, container)
            except ValueError as error:
                return str(error)
        return None

    def prepare_from_supernet(self, supernet: nn.Module) -> None:
        """Analyse ``supernet``, convert its layers and build the units.

        Args:
            supernet (nn.Module): The model to prune or search; its layers
                are replaced in place by dynamic ops.
        """
        unit_cfgs = self._parse(supernet)
        failures: Dict[str, str] = {}
        units = []
        for unit_name, cfg in unit_cfgs.items():
            unit = self.unit_class.init_from_cfg(unit_name, cfg,
                                                 self.default_args)
            reasons = []
            for channel in unit.channels:
                if channel.name not in failures:
                    reason = self._convert(supernet, channel.name)
                    failures[channel.name] = reason or ''
                if failures[channel.name]:
                    reasons.append(f'{channel.name}: '
                                   f'{failures[channel.name]}')
            if reasons:
                self.excluded.append(
                    dict(module=reasons[0].split(':')[0], op=None,
                         reason=reasons[0], channels=unit_name))
                continue
            units.append(unit)
        for unit in units:
            unit.prepare_for_pruning(supernet)
            self.units.append(unit)
        self._check_groups()
        self._prepared = True

    def _check_groups(self) -> None:
        names = {u.name for u in self.units}
        for group in self.custom_groups:
            unknown = [n for n in group if n not in names]
            if unknown:
                raise ValueError(f'ChannelMutator: custom_groups name units '
                                 f'{unknown} that are not prunable units')

    # ------------------------------------------------------------ searching
    @property
    def mutable_units(self) -> List[MutableChannelUnit]:
        """Units that are not fixed."""
        if not self._prepared:
            raise RuntimeError('ChannelMutator: call '
                               '`prepare_from_supernet(model)` first')
        return [u for u in self.units if not u.is_fixed]

    @property
    def search_groups(self) -> Dict[str, List[MutableChannelUnit]]:
        """``{group key: [units]}``; a custom group is keyed by its first
        unit's name, every other unit by its own name."""
        by_name = {u.name: u for u in self.mutable_units}
        groups: Dict[str, List[MutableChannelUnit]] = {}
        grouped = set()
        for group in self.custom_groups:
            members = [by_name[n] for n in group if n in by_name]
            if members:
                groups[group[0]] = members
                grouped.update(group)
        for name, unit in by_name.items():
            if name not in grouped:
                groups[name] = [unit]
        return groups

    @property
    def choices(self) -> Dict[str, List[Any]]:
        """The choices of every search group."""
        return {k: g[0].choices for k, g in self.search_groups.items()}

    def sample_choices(self, kind: str = 'random') -> Dict[str, Any]:
        """One choice per search group: random, or each unit's min / max."""
        if kind not in _KINDS:
            raise ValueError(f'ChannelMutator.sample_choices: `kind` must be'
                             f' one of {list(_KINDS)}, but got {kind!r}')
        result = {}
        for key, group in self.search_groups.items():
            unit = group[0]
            if kind == 'random':
                result[key] = unit.sample_choice()
            else:
                attr = f'{kind}_choice'
                result[key] = getattr(unit, attr) if hasattr(unit, attr) \
                    else (unit.choices[0] if kind == 'min'
                          else unit.choices[-1])
        return result

    def set_choices(self, choices: Dict[str, Any]) -> None:
        """Set ``{group key: choice}``; every search group is required."""
        groups = self.search_groups
        missing = sorted(set(groups) - set(choices))
        unknown = sorted(set(choices) - set(groups))
        if missing or unknown:
            raise KeyError(
                'ChannelMutator.set_choices needs one choice per search '
                f'group. Missing: {missing[:5]}; unknown: {unknown[:5]}')
        for key, choice in choices.items():
            for unit in groups[key]:
                unit.current_choice = choice

    @property
    def current_choices(self) -> Dict[str, Any]:
        """The current choice of every search group."""
        return {k: g[0].current_choice
                for k, g in self.search_groups.items()}

    def set_max_choices(self) -> None:
        """Set every group to its largest choice."""
        self.set_choices(self.sample_choices('max'))

    def set_min_choices(self) -> None:
        """Set every group to its smallest choice."""
        self.set_choices(self.sample_choices('min'))

    # ------------------------------------------------------------- configs
    def config_template(self,
                        only_mutable_units: bool = False,
                        with_unit_init_args: bool = True,
                        with_channels: bool = False) -> Dict[str, Dict]:
        """The units as a config ``{unit name: {init_args, choice}}``.

        This is the format of the original MMRazor's pruning subnet files;
        ``channel_unit_cfg=dict(units=<it>)`` restores the choices, and with
        ``with_channels=True`` and ``parse_cfg=dict(type='Config')`` it
        rebuilds the units without tracing.
        """
        units = self.mutable_units if only_mutable_units else self.units
        return {
            u.name: u.config_template(with_unit_init_args, with_channels)
            for u in units
        }

    def set_choices_from_config(self, units: Union[str, Dict]) -> None:
        """Set each unit's ``choice`` from a units config (dict or file)."""
        cfg = _load_units(units)
        by_name = {u.name: u for u in self.units}
        unknown = sorted(set(cfg) - set(by_name))
        if unknown:
            raise KeyError(f'ChannelMutator: units {unknown[:5]} of the '
                           'config are not units of this model')
        for name, unit_cfg in cfg.items():
            if 'choice' in unit_cfg:
                by_name[name].current_choice = unit_cfg['choice']


# The original MMRazor's configs name the mutator by its use; every name
# builds the same class (the unit type comes from ``channel_unit_cfg``: DCFF's
# fusion and Group Fisher's bookkeeping live in their units and algorithms).
OneShotChannelMutator = MODELS.register_module(
    name='OneShotChannelMutator', module=ChannelMutator)
DCFFChannelMutator = MODELS.register_module(
    name='DCFFChannelMutator', module=ChannelMutator)
GroupFisherChannelMutator = MODELS.register_module(
    name='GroupFisherChannelMutator', module=ChannelMutator)

@MODELS.register_module()
class SlimmableChannelMutator(ChannelMutator):
    """The channel mutator of ``SlimmableNetwork``: setting the choices of
    one of its subnets also makes that subnet's private batch norms active
    (``SwitchableBatchNorm2d.switch``), whoever sets them (the network, a
    validation or search loop, ``load_fix_subnet``); other choices use the
    norms of their widths. Arguments are those of :class:`ChannelMutator`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._subnets: List[Dict[str, Any]] = []
        self._switchables: List[nn.Module] = []

    def set_subnets(self, subnets: List[Dict[str, Any]],
                    switchables: List[nn.Module]) -> None:
        """Record the subnets (``{group key: choice}`` each, in switch
        order) and the switchable batch norms to switch."""
        self._subnets = [dict(s) for s in subnets]
        self._switchables = list(switchables)

    def set_choices(self, choices: Dict[str, Any],
                    switch: Optional[int] = None) -> None:
        """Set ``{group key: choice}`` and the batch norms of the subnet
        with exactly these choices (the first, unless ``switch`` names
        one; none: the width's norms)."""
        super().set_choices(choices)
        if switch is None:
            switch = next((i for i, s in enumerate(self._subnets)
                           if s == dict(choices)), None)
        for module in self._switchables:
            module.switch = switch


# The original MMRazor's module path of the DMCP mutator (its
# ``channel_mutator`` package held every channel mutator).
from .dmcp_channel_mutator import DMCPChannelMutator  # noqa: E402,F401
