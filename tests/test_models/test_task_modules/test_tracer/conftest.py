# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers of the channel analyzer tests: the unit format check."""
from typing import Dict

import torch.nn as nn

ENTRY_KEYS = {'name', 'start', 'end', 'expand_ratio', 'is_output_channel'}


def entries(unit: dict, side: str) -> list:
    """``(name, start, end, expand_ratio)`` of one side of a unit."""
    return [(e['name'], e['start'], e['end'], e['expand_ratio'])
            for e in unit['channels'][f'{side}_related']]


def names(unit: dict, side: str) -> list:
    """Module names of one side of a unit, in order."""
    return [e['name'] for e in unit['channels'][f'{side}_related']]


def check_format(model: nn.Module, units: Dict[str, dict],
                 excluded: Dict[str, dict], report: list) -> None:
    """Every unit follows the config format, names real modules, and every
    excluded unit is explained by a report entry."""
    modules = dict(model.named_modules())
    assert not set(units) & set(excluded)
    for name, unit in {**units, **excluded}.items():
        assert set(unit) - {'reason'} == {'init_args', 'channels'}, name
        n = unit['init_args']['num_channels']
        assert isinstance(n, int) and n > 0
        assert set(unit['channels']) == {'output_related', 'input_related'}
        for side, is_out in (('output_related', True),
                             ('input_related', False)):
            for e in unit['channels'][side]:
                assert set(e) == ENTRY_KEYS
                assert e['is_output_channel'] is is_out
                assert e['end'] - e['start'] == n, (name, e)
                assert e['name'] in modules, e['name']
        if unit in units.values():
            assert unit['channels']['output_related'], name
            assert name.startswith(unit['channels']['output_related'][0]
                                   ['name'] + '_')
    explained = {r['channels'] for r in report}
    for name, unit in excluded.items():
        assert unit['reason']
        assert name in explained, name
    for r in report:
        assert set(r) == {'module', 'op', 'reason', 'channels'}
