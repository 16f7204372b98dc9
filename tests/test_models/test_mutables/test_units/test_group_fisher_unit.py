# Copyright (c) OpenMMLab. All rights reserved.
"""GroupFisherChannelUnit: Fisher information and costs by hand."""
import pytest
import torch

from mmrazor.models.mutables import GroupFisherChannelUnit
from mmrazor.registry import MODELS

from ...test_mutators._channel_net import TinyChannelNet, tiny_units

CONV1_UNIT = 'conv1_(0, 8)_8'
CONV3_UNIT = 'conv3_(0, 16)_16'


def _prepared(**default_args):
    torch.manual_seed(0)
    net = TinyChannelNet().train()
    mutator = MODELS.build(
        dict(
            type='ChannelMutator',
            channel_unit_cfg=dict(
                type='GroupFisherChannelUnit',
                default_args=default_args,
                units=tiny_units()),
            parse_cfg=dict(type='Config')))
    mutator.prepare_from_supernet(net)
    return net, {u.name: u for u in mutator.units}


def _expected_fisher(net, x):
    """sum_n (sum_layers sum_hw x * dL/dx)^2 from a separate backward."""
    inputs = {}

    def keep(name):

        def hook(module, args):
            view = args[0].view_as(args[0])
            view.retain_grad()
            inputs[name] = view
            return (view, )

        return hook

    handles = [
        getattr(net, n).register_forward_pre_hook(keep(n))
        for n in ('conv2', 'conv3', 'fc')
    ]
    net(x).pow(2).sum().backward()
    for h in handles:
        h.remove()

    def contrib(name):
        t = inputs[name]
        prod = t.detach() * t.grad
        return prod.sum((2, 3)) if prod.dim() == 4 else prod

    conv1 = ((contrib('conv2') + contrib('conv3'))**2).sum(0)
    conv3 = (contrib('fc')**2).sum(0)
    return conv1.double(), conv3.double()


def test_fisher_equals_hand_computation():
    net, units = _prepared(normalization_type='none', mutate_linear=True)
    # prune a channel of each unit first: masked layers still map back
    for name, index in ((CONV1_UNIT, 2), (CONV3_UNIT, 5)):
        mask = torch.ones(units[name].num_channels, dtype=torch.bool)
        mask[index] = False
        units[name].mutable_channel.current_choice = mask
    x = torch.randn(3, 3, 6, 6)
    for unit in units.values():
        unit.start_record()
    net(x).pow(2).sum().backward()
    for unit in units.values():
        unit.end_record()
        assert unit.has_recorded()
        unit.accumulate()
        assert not unit.has_recorded()
    net.zero_grad()
    conv1, conv3 = _expected_fisher(net, x)
    # expected values are over active channels; the pruned one gets 0
    expect1 = torch.zeros(8, dtype=torch.float64)
    expect1[torch.arange(8) != 2] = conv1
    expect3 = torch.zeros(16, dtype=torch.float64)
    expect3[torch.arange(16) != 5] = conv3
    torch.testing.assert_close(units[CONV1_UNIT].fisher_info, expect1)
    torch.testing.assert_close(units[CONV3_UNIT].fisher_info, expect3)
    # the pruned channel is never the least important
    assert units[CONV1_UNIT].fisher_importance()[2] == float('inf')
    # no hooks remain
    assert not any(m._forward_pre_hooks or m._forward_hooks
                   for m in net.modules())


def test_prune_min_channel_and_choice():
    net, units = _prepared()
    unit = units[CONV3_UNIT]
    unit.fisher_info.copy_(torch.arange(16, 0, -1, dtype=torch.float64))
    assert unit.prune_min_channel() == 15
    assert unit.current_choice == 15
    assert unit.prune_min_channel() == 14
    assert unit.activated_channels == 14
    assert unit.current_mask[:14].all() and not unit.current_mask[14:].any()
    unit.current_choice = 14  # the same count keeps the mask
    assert not unit.current_mask[14:].any()
    unit.current_choice = 16
    assert unit.current_mask.all()


def test_channel_costs():
    # TinyChannelNet at 6x6: every conv output is 6x6 = 36
    net, units = _prepared(normalization_type='flops')
    x = torch.randn(2, 3, 6, 6)
    for unit in units.values():
        unit.start_record()
    net(x)
    for unit in units.values():
        unit.end_record()
    # conv1 unit: conv1 out (36*9*3) + depthwise conv2 once (36*9) +
    # conv3 in (36*1*16)
    assert units[CONV1_UNIT].channel_cost() == pytest.approx(
        (36 * 9 * 3 + 36 * 9 + 36 * 16) / 1e9)
    # conv3 unit: conv3 out (36*1*8) + fc in (4 outputs)
    assert units[CONV3_UNIT].channel_cost() == pytest.approx(
        (36 * 8 + 4) / 1e9)
    units[CONV1_UNIT].normalization_type = 'act'
    assert units[CONV1_UNIT].channel_cost() == pytest.approx(72 / 1e6)


def test_prunable_and_arguments():
    _, units = _prepared()
    assert units[CONV1_UNIT].is_prunable
    assert not units[CONV3_UNIT].is_prunable  # read by the linear fc
    _, units = _prepared(mutate_linear=True)
    assert units[CONV3_UNIT].is_prunable
    with pytest.raises(ValueError, match="'flop'"):
        GroupFisherChannelUnit(4, normalization_type='flop')
    assert GroupFisherChannelUnit(4).init_args['normalization_type'] == \
        'flops'
