# Copyright (c) OpenMMLab. All rights reserved.
import subprocess
import sys

import mmengine.registry as root
import pytest
import torch.nn as nn
from mmengine.registry import DefaultScope, Registry

import mmrazor.registry as ours
from mmrazor.models import BaseMutable
from mmrazor.registry import MODELS
from mmrazor.utils import register_all_modules

ROOTS = [
    name for name in dir(root)
    if name.isupper() and isinstance(getattr(root, name), Registry)
]


@pytest.mark.parametrize('name', ROOTS)
def test_every_root_registry_has_an_mmrazor_child(name):
    registry = getattr(ours, name)
    assert registry.scope == 'mmrazor'
    assert registry.parent is getattr(root, name)
    assert registry._locations, f'{name} has no import locations'


def test_mmrazor_names_resolve_with_nothing_imported():
    """`type='mmrazor.X'` resolves from an mmcls registry in a fresh
    process, through mmengine's auto-import of mmrazor.registry and the
    registries' locations."""
    code = (
        'from mmcls.registry import MODELS, TASK_UTILS\n'
        "assert 'mmrazor' not in __import__('sys').modules\n"
        "print(MODELS.get('mmrazor.SearchableShuffleNetV2').__name__)\n"
        "print(TASK_UTILS.get('mmrazor.ResourceEstimator').__name__)\n")
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ['SearchableShuffleNetV2', 'ResourceEstimator']


def test_register_all_modules_sets_the_scope():
    with DefaultScope.overwrite_default_scope(None):
        register_all_modules(init_default_scope=True)
        assert DefaultScope.get_current_instance().scope_name == 'mmrazor'
    assert MODELS.get('EvolutionSearchLoop') is None  # a loop, not a model


def _mutable_cfgs():
    op = dict(
        type='OneShotMutableOP',
        candidates=dict(
            a=dict(type='Identity', in_channels=4, out_channels=4, stride=1),
            b=dict(type='ShuffleBlock', in_channels=4, out_channels=4,
                   stride=1)))
    return {
        'OneShotMutableOP': op,
        'OneShotProbMutableOP': dict(op, type='OneShotProbMutableOP',
                                     choice_probs=[0.25, 0.75]),
        'OneShotMutableValue': dict(type='OneShotMutableValue',
                                    value_list=[1, 2, 3]),
        'MutableValue': dict(type='MutableValue', value_list=[1, 2, 3]),
        # differentiable NAS: ops and routes, fixed choices as name lists
        'DiffMutableOP': dict(op, type='DiffMutableOP'),
        'OneHotMutableOP': dict(op, type='OneHotMutableOP'),
        **{
            name: dict(type=name,
                       edges={k: nn.Identity() for k in ('a', 'b', 'c')})
            for name in ('DiffChoiceRoute', 'GumbelChoiceRoute')
        },
        'OneShotMutableChannel': dict(type='OneShotMutableChannel',
                                      num_channels=8,
                                      candidate_choices=[4, 8]),
        # channel units, as a channel mutator builds them
        **{
            name: dict(type=name, num_channels=8)
            for name in ('SequentialMutableChannelUnit',
                         'OneShotMutableChannelUnit', 'L1MutableChannelUnit',
                         'SlimmableChannelUnit', 'DCFFChannelUnit',
                         'GroupFisherChannelUnit', 'DMCPChannelUnit')
        },
    }


def test_every_registered_mutable_has_a_round_trip_case():
    registered = {
        name for name, cls in MODELS.module_dict.items()
        if isinstance(cls, type) and issubclass(cls, BaseMutable)
    }
    assert registered == set(_mutable_cfgs())


@pytest.mark.parametrize('name', sorted(_mutable_cfgs()))
def test_mutable_fix_dump_round_trip(name):
    mutable = MODELS.build(_mutable_cfgs()[name])
    choice = mutable.choices[-1]
    mutable.current_choice = choice
    dumped = mutable.dump_chosen()
    other = MODELS.build(_mutable_cfgs()[name])
    other.fix_chosen(dumped.chosen)
    # DARTS mutables keep the original files' layout: a list of names.
    expected = [choice] if isinstance(dumped.chosen, list) and not \
        isinstance(choice, list) else choice
    assert other.is_fixed and other.current_choice in (choice, expected)
    assert other.dump_chosen().chosen == expected
    assert isinstance(other, nn.Module)
