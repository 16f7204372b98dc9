# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import (
    DynamicBatchNorm2d,
    DynamicConv2d,
)
from mmrazor.models.mutators import ChannelMutator
from mmrazor.models.utils import export_static_model
from mmrazor.registry import MODELS

from ._channel_net import TinyChannelNet, tiny_units


def _prepared(unit_type: str, **default_args):
    net = TinyChannelNet().eval()
    mutator = MODELS.build(
        dict(type='ChannelMutator',
             channel_unit_cfg=dict(type=unit_type, default_args=default_args,
                                   units=tiny_units()),
             parse_cfg=dict(type='Config')))
    mutator.prepare_from_supernet(net)
    return net, mutator


@pytest.mark.parametrize('unit_type', [
    'SequentialMutableChannelUnit', 'L1MutableChannelUnit',
    'OneShotMutableChannelUnit'
])
def test_prune_and_export_parity(unit_type):
    args = dict(choice_mode='ratio')
    if unit_type == 'OneShotMutableChannelUnit':
        args['candidate_choices'] = [0.25, 0.5, 1.0]
    net, mutator = _prepared(unit_type, **args)
    assert isinstance(net.conv1, DynamicConv2d)
    assert isinstance(net.bn2, DynamicBatchNorm2d)
    assert sorted(mutator.current_choices.values()) == [1.0, 1.0]
    mutator.set_choices({'conv1_(0, 8)_8': 0.5, 'conv3_(0, 16)_16': 0.25})
    static = export_static_model(net)
    assert static.conv1.out_channels == 4 and static.conv2.groups == 4
    assert static.fc.in_features == 4
    assert not any(hasattr(m, 'mutable_attrs') for m in static.modules())
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert (static(x) - net(x)).abs().max() <= 1e-5
    n_static = sum(p.numel() for p in static.parameters())
    assert n_static < sum(p.numel() for p in net.parameters())


def test_l1_unit_keeps_largest_filters():
    net, mutator = _prepared('L1MutableChannelUnit')
    with torch.no_grad():
        net.conv3.weight.mul_(0.01)
        net.conv3.weight[[3, 9, 12, 14]] *= 1000
    mutator.set_choices({'conv1_(0, 8)_8': 1.0, 'conv3_(0, 16)_16': 0.25})
    unit = mutator.units[1]
    assert unit.current_mask.nonzero().flatten().tolist() == [3, 9, 12, 14]


def test_config_template_round_trip():
    _, mutator = _prepared('OneShotMutableChannelUnit',
                           candidate_choices=[0.5, 1.0])
    mutator.set_choices(mutator.sample_choices('min'))
    template = mutator.config_template()
    assert template['conv3_(0, 16)_16'] == dict(
        init_args=dict(num_channels=16, choice_mode='ratio', divisor=1,
                       min_value=1, min_ratio=0.9,
                       candidate_choices=[0.5, 1.0]),
        choice=0.5)
    net2, mutator2 = _prepared('OneShotMutableChannelUnit',
                               candidate_choices=[0.5, 1.0])
    mutator2.set_choices_from_config(template)
    assert mutator2.current_choices == mutator.current_choices
    full = mutator.config_template(with_channels=True)
    rebuilt = ChannelMutator(
        channel_unit_cfg=dict(type='OneShotMutableChannelUnit', units=full),
        parse_cfg=dict(type='Config'))
    rebuilt.prepare_from_supernet(TinyChannelNet())
    assert rebuilt.current_choices == mutator.current_choices


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="'NoSuchUnit' is not a registered"):
        ChannelMutator(channel_unit_cfg=dict(type='NoSuchUnit'))
    with pytest.raises(ValueError, match='unknown channel_unit_cfg keys'):
        ChannelMutator(channel_unit_cfg=dict(type='L1MutableChannelUnit',
                                             default=1))
    _, mutator = _prepared('SequentialMutableChannelUnit')
    with pytest.raises(KeyError, match='Missing'):
        mutator.set_choices({'conv1_(0, 8)_8': 4})
    with pytest.raises(ValueError, match=r'an int in \[1, 8\]'):
        mutator.set_choices({'conv1_(0, 8)_8': 9, 'conv3_(0, 16)_16': 4})


def test_unconvertible_layer_is_excluded_with_reason():
    units = tiny_units()
    units['conv1_(0, 8)_8']['channels']['output_related'][1]['name'] = 'gn'
    net = TinyChannelNet()
    net.gn = nn.GroupNorm(2, 8)
    mutator = ChannelMutator(
        channel_unit_cfg=dict(type='SequentialMutableChannelUnit',
                              units=units),
        parse_cfg=dict(type='Config'))
    mutator.prepare_from_supernet(net)
    assert [u.name for u in mutator.units] == ['conv3_(0, 16)_16']
    assert mutator.excluded[0]['channels'] == 'conv1_(0, 8)_8'
    assert 'GroupNorm has no dynamic op' in mutator.excluded[0]['reason']


def test_meta_device_estimate_leaves_masks_intact():
    from mmrazor.models import ResourceEstimator
    net, mutator = _prepared('L1MutableChannelUnit', choice_mode='ratio')
    mutator.set_choices({'conv1_(0, 8)_8': 0.5, 'conv3_(0, 16)_16': 0.25})
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        before = net(x)
    estimator = ResourceEstimator(input_shape=(1, 3, 8, 8))
    assert estimator.estimate(net) == estimator.estimate(
        export_static_model(net))
    assert all(u.current_mask.device.type == 'cpu' for u in mutator.units)
    with torch.no_grad():
        assert torch.equal(net(x), before)


def test_unknown_units_and_unconvertible_padding():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding_mode='reflect',
                                  padding=1), nn.BatchNorm2d(8),
                        nn.Conv2d(8, 4, 1))
    mutator = ChannelMutator(parse_cfg=dict(type='ChannelAnalyzer',
                                            demo_input=(1, 3, 8, 8)))
    mutator.prepare_from_supernet(net)
    assert not mutator.units
    assert any('padding_mode' in e['reason'] for e in mutator.excluded)
    typo = ChannelMutator(
        channel_unit_cfg=dict(type='SequentialMutableChannelUnit',
                              units={'typo_unit': dict(choice=4)}),
        parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 8, 8)))
    with pytest.raises(KeyError, match="names \\['typo_unit'\\]"):
        typo.prepare_from_supernet(TinyChannelNet())
