# Copyright (c) OpenMMLab. All rights reserved.
"""Slimmable networks: one set of weights trained at a few widths."""
import copy
from typing import Any, Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODELS, TASK_UTILS, in_mmrazor_scope

from ...architectures.dynamic_ops import SwitchableBatchNorm2d
from ...mutables import SequentialMutableChannelUnit
from ...mutators import ChannelMutator
from ...mutators.channel_mutator import SlimmableChannelMutator, _load_units
from .._sandwich import add_prefix
from ..base import BaseAlgorithm, LossResults
from ._layer_channels import is_layer_channel_file, layer_channels_to_units

_DEFAULT_MUTATOR = dict(
    type='SlimmableChannelMutator',
    channel_unit_cfg=dict(type='SlimmableChannelUnit'),
    parse_cfg=dict(
        type='ChannelAnalyzer',
        demo_input=(1, 3, 224, 224),
        tracer_type='BackwardTracer'))


def _widths(subnet: Dict[str, Dict]) -> Dict[str, int]:
    """Channel count of every unit of a units-format subnet."""
    widths = {}
    for name, cfg in subnet.items():
        args = dict(cfg.get('init_args', {}))
        if 'num_channels' not in args or 'choice' not in cfg:
            raise ValueError(
                f'Subnet unit {name!r} needs init_args.num_channels and a '
                f'choice (the format AutoSlimGreedySearchLoop writes), got '
                f'{cfg!r}')
        probe = SequentialMutableChannelUnit(
            args['num_channels'], args.get('choice_mode', 'number'),
            args.get('divisor', 1), args.get('min_value', 1),
            args.get('min_ratio', 0.9))
        widths[name] = probe.choice_to_number(cfg['choice'])
    return widths


def _subnets_from_units(units: Dict[str, Dict]) -> List[Dict[str, int]]:
    """The subnets of units that list their widths: the original MMRazor's
    ``SlimmableChannelUnit`` configs, where ``init_args.candidate_choices``
    of every unit has one entry per subnet (subnet ``i`` takes entry ``i``
    of each unit). A unit's ``switch_choices`` (what a
    ``SlimmableNetwork``'s own mutator writes: the width of each subnet in
    order, repeats kept) take precedence."""
    def listed(args: Dict) -> Any:
        return args.get('switch_choices') or args.get('candidate_choices')

    counts = {}
    for name, cfg in units.items():
        choices = listed(dict(cfg.get('init_args', {})))
        if not isinstance(choices, (list, tuple)) or not choices:
            raise ValueError(
                f'SlimmableNetwork: without `channel_cfg_paths`, every unit '
                f"of the mutator's channel_unit_cfg.units needs "
                f'init_args.candidate_choices (one width per subnet), but '
                f'unit {name!r} has {cfg!r}')
        counts[name] = len(choices)
    if len(set(counts.values())) != 1:
        raise ValueError(
            'SlimmableNetwork: every unit must list as many '
            f'candidate_choices as there are subnets, but got {counts}')
    subnets = []
    for i in range(next(iter(counts.values()))):
        subnet = {}
        for name, cfg in units.items():
            args = dict(cfg['init_args'])
            subnet[name] = dict(init_args=args, choice=listed(args)[i])
        subnets.append(_widths(subnet))
    return subnets


@MODELS.register_module()
class SlimmableNetwork(BaseAlgorithm):
    """Train a network at the widths of a few subnets, sharing weights.

    Yu et al., "Slimmable Neural Networks", ICLR 2019
    (https://arxiv.org/abs/1812.08928). Each training step runs every
    subnet of ``channel_cfg_paths`` (e.g. the ones an AutoSlim greedy search
    wrote) on the batch and sums their losses; every width has its own batch
    norms (``SlimmableChannelUnit``). With ``deploy_index`` set, only that
    subnet is used (training or testing one width).

    Args:
        architecture (dict | BaseModel): The network.
        channel_cfg_paths (str | dict | list, optional): Subnets in the
            units format (paths to yaml/json files or dicts), or in the
            original MMRazor's per-layer `current_choice` /
            `origin_channels` format (MBV2_530M.yaml...). Defaults to
            None: the subnets are those of the mutator's
            ``channel_unit_cfg.units`` (a dict or a json/yaml file), whose
            ``init_args.candidate_choices`` list one width per subnet (the
            original MMRazor's form).
        mutator (dict): A channel mutator config; its unit type must be
            ``SlimmableChannelUnit``. Defaults to a ``ChannelAnalyzer``.
        deploy_index (int): Index of the only subnet used; -1 uses all.
            Defaults to -1.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 channel_cfg_paths: Union[str, Dict, List, None] = None,
                 mutator: Dict = _DEFAULT_MUTATOR,
                 deploy_index: int = -1,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        if not isinstance(mutator, dict):
            raise TypeError('SlimmableNetwork: give `mutator` as a config '
                            'dict; the widths of its units come from '
                            '`channel_cfg_paths`')
        if channel_cfg_paths is None:
            units = _load_units(
                dict(mutator.get('channel_unit_cfg', {})).get('units'))
            if not units:
                raise ValueError(
                    'SlimmableNetwork: give the subnets in '
                    "`channel_cfg_paths` or in the mutator's "
                    'channel_unit_cfg.units')
            subnets = _subnets_from_units(units)
        else:
            if not isinstance(channel_cfg_paths, (list, tuple)):
                channel_cfg_paths = [channel_cfg_paths]
            if not channel_cfg_paths:
                raise ValueError(
                    'SlimmableNetwork: `channel_cfg_paths` is empty')
            files = [_load_units(p) for p in channel_cfg_paths]
            units = None
            if any(is_layer_channel_file(f) for f in files):
                units = TASK_UTILS.build(in_mmrazor_scope(dict(
                    mutator.get('parse_cfg', _DEFAULT_MUTATOR['parse_cfg'])
                ))).analyze(self.architecture)
            subnets = [
                layer_channels_to_units(f, units)
                if is_layer_channel_file(f) else _widths(f) for f in files
            ]
        if not -1 <= deploy_index < len(subnets):
            raise ValueError(
                f'SlimmableNetwork: deploy_index {deploy_index} is out of '
                f'range for {len(subnets)} subnets (use -1 for all)')
        self.mutator = self._build_mutator(mutator, subnets)
        self.subnets: List[Dict[str, Any]] = [
            {k: v for k, v in s.items() if k in self.mutator.choices}
            for s in subnets
        ]
        if isinstance(self.mutator, SlimmableChannelMutator):
            self.mutator.set_subnets(self.subnets, [
                m for m in self.architecture.modules()
                if isinstance(m, SwitchableBatchNorm2d)
            ])
        self.deploy_index = deploy_index
        self.set_subnet(deploy_index)

    def set_subnet(self, index: int) -> None:
        """Make subnet ``index`` (of ``subnets``; -1 the last) active: its
        widths, and its own batch norms where it shares a width with
        another subnet (``SwitchableBatchNorm2d.switch``).

        Args:
            index (int): The subnet.
        """
        if not -len(self.subnets) <= index < len(self.subnets):
            raise IndexError(f'SlimmableNetwork: no subnet {index}; there '
                             f'are {len(self.subnets)}')
        if isinstance(self.mutator, SlimmableChannelMutator):
            self.mutator.set_choices(self.subnets[index],
                                     switch=index % len(self.subnets))
        else:
            self.mutator.set_choices(self.subnets[index])

    def _build_mutator(self, cfg: Dict,
                       subnets: List[Dict[str, int]]) -> ChannelMutator:
        cfg = copy.deepcopy(cfg)
        kind = cfg.get('type')
        mutator_cls = kind if isinstance(kind, type) else MODELS.get(kind)
        # private batch norms per subnet need a mutator that switches them
        switches = isinstance(mutator_cls, type) and issubclass(
            mutator_cls, SlimmableChannelMutator)
        unit_cfg = dict(cfg.get('channel_unit_cfg',
                                dict(type='SlimmableChannelUnit')))
        units = _load_units(unit_cfg.get('units'))
        for name in subnets[0]:
            widths = sorted({s[name] for s in subnets if name in s})
            entry = dict(units.get(name, {}))
            entry['init_args'] = dict(
                entry.get('init_args', {}), candidate_choices=widths,
                choice_mode='number')
            if switches and all(name in s for s in subnets):
                # private batch norms for every subnet (see set_subnet)
                entry['init_args']['switch_choices'] = [
                    s[name] for s in subnets]
            units[name] = entry
        unit_cfg['units'] = units
        cfg['channel_unit_cfg'] = unit_cfg
        mutator = MODELS.build(in_mmrazor_scope(cfg))
        mutator.prepare_from_supernet(self.architecture)
        missing = sorted(set(subnets[0]) - set(mutator.choices))
        if missing:
            raise ValueError(
                f'SlimmableNetwork: the subnets name units {missing[:5]} '
                'that the mutator did not find in the architecture')
        return mutator

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """Summed losses of every subnet (or of ``deploy_index``'s)."""
        if self.deploy_index >= 0:
            return self.architecture(inputs, data_samples, mode='loss')
        losses: Dict[str, torch.Tensor] = {}
        for i in range(len(self.subnets)):
            self.set_subnet(i)
            losses.update(add_prefix(
                self.architecture(inputs, data_samples, mode='loss'),
                f'subnet_{i}'))
        return losses
