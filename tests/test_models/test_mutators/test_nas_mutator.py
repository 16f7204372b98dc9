# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch.nn as nn

from mmrazor.models import NasMutator, OneShotMutableOP, OneShotMutableValue
from mmrazor.registry import MODELS


def build_supernet(spos_arch_setting):
    return MODELS.build(
        dict(type='SearchableShuffleNetV2', arch_setting=spos_arch_setting))


def test_groups_and_space_size(spos_arch_setting):
    mutator = MODELS.build(dict(type='NasMutator'))
    mutator.prepare_from_supernet(build_supernet(spos_arch_setting))
    assert len(mutator.search_groups) == 20
    assert 'layers.0.0' in mutator.search_groups
    assert mutator.search_space_size == 4**20
    assert all(len(c) == 4 for c in mutator.choices.values())


def test_sample_set_read(spos_arch_setting):
    supernet = build_supernet(spos_arch_setting)
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    subnet = mutator.sample_choices()
    mutator.set_choices(subnet)
    assert mutator.current_choices == subnet
    assert supernet.layers[2][5].current_choice == subnet['layers.2.5']


def test_alias_groups_share_choices():
    def op(alias=None):
        return OneShotMutableOP(
            candidates=dict(a=nn.Identity(), b=nn.ReLU()), alias=alias)

    model = nn.Sequential(op('x'), op('x'), op(),
                          OneShotMutableValue([1, 2], alias='depth'))
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    assert sorted(mutator.search_groups) == ['2', 'depth', 'x']
    assert mutator.search_space_size == 8
    mutator.set_choices({'x': 'b', '2': 'a', 'depth': 1})
    assert model[0].current_choice == model[1].current_choice == 'b'
    assert mutator.sample_choices('random')['depth'] in (1, 2)


def test_min_max_need_ordered_choices():
    model = nn.Sequential(OneShotMutableOP(candidates=dict(a=nn.Identity())))
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    with pytest.raises(ValueError, match='have no order'):
        mutator.sample_choices('max')
    with pytest.raises(ValueError, match="'random', 'min', 'max'"):
        mutator.sample_choices('best')


def test_alias_with_different_choices():
    model = nn.Sequential(
        OneShotMutableValue([1, 2], alias='d'),
        OneShotMutableValue([1, 3], alias='d'))
    with pytest.raises(ValueError, match="alias 'd'"):
        NasMutator().prepare_from_supernet(model)


def test_set_choices_errors(spos_arch_setting):
    mutator = NasMutator()
    with pytest.raises(RuntimeError, match='prepare_from_supernet'):
        mutator.sample_choices()
    mutator.prepare_from_supernet(build_supernet(spos_arch_setting))
    subnet = mutator.sample_choices()
    subnet.pop('layers.0.0')
    subnet['layers.9.9'] = 'shuffle_3x3'
    with pytest.raises(KeyError) as err:
        mutator.set_choices(subnet)
    assert "'layers.0.0'" in str(err.value)
    assert "'layers.9.9'" in str(err.value)
    subnet = mutator.sample_choices()
    subnet['layers.1.1'] = 'conv_9x9'
    with pytest.raises(ValueError, match="'layers.1.1' got 'conv_9x9'"):
        mutator.set_choices(subnet)
