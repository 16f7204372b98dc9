# Copyright (c) OpenMMLab. All rights reserved.
"""DCFF: fusion updates at the scheduled temperatures."""
import uuid

import pytest
import torch
from mmengine.logging import MessageHub

from mmrazor.models.algorithms import DCFF
from mmrazor.models.mutables.mutable_channel.units.dcff_unit import (
    dcff_fusion,
    dcff_temperature,
)
from mmrazor.models.utils import export_pruned_model
from mmrazor.registry import MODELS

from ._prune_toy import (
    CONV1,
    CONV2,
    PARSE_CFG,
    batch,
    optim_wrapper,
    tiny_classifier,
)

TARGET = {CONV1: 0.5, CONV2: 0.75}


def _algorithm(**kwargs) -> DCFF:
    torch.manual_seed(0)
    kwargs.setdefault('by_epoch', False)
    return MODELS.build(
        dict(
            type='DCFF',
            architecture=tiny_classifier(),
            mutator_cfg=dict(
                type='DCFFChannelMutator',
                channel_unit_cfg=dict(
                    type='DCFFChannelUnit',
                    default_args=dict(choice_mode='ratio')),
                parse_cfg=PARSE_CFG),
            target_pruning_ratio=TARGET,
            **kwargs))


def _expected_matrix(unit, temperature):
    p, importance = dcff_fusion(unit.filters(), temperature)
    order = importance.argsort(descending=True, stable=True)
    k = unit.activated_channels
    return p[torch.cat([order[:k].sort().values, order[k:]])].float()


def test_fusion_follows_the_temperature_schedule():
    algo = _algorithm(prune_times=3, step_freq=2)
    wrapper = optim_wrapper(algo, lr=0.1)
    units = {u.name: u for u in algo.mutator.units}
    temperatures = [dcff_temperature(i, 2) for i in range(3)]
    assert temperatures[0] == pytest.approx(1.0)
    assert temperatures[2] == pytest.approx(1e4)
    for i in range(6):
        if i % 2 == 0:  # a step: widths set first, then the fusion
            for name, ratio in TARGET.items():
                units[name].current_choice = ratio
            expected = {
                n: _expected_matrix(u, temperatures[i // 2])
                for n, u in units.items()
            }
        algo.train_step(batch(seed=i), wrapper)
        assert algo.pruning_structure == {CONV1: 4, CONV2: 12}
        for name, unit in units.items():
            torch.testing.assert_close(unit.fusion_matrix, expected[name])
    assert algo.num_prunes == 3


def test_export_parity_and_checkpoint():
    algo = _algorithm(prune_times=2)
    wrapper = optim_wrapper(algo, lr=0.1)
    for i in range(2):
        algo.train_step(batch(seed=i), wrapper)
    algo.eval()
    static, structure = export_pruned_model(algo)
    assert structure == {CONV1: 4, CONV2: 12}
    assert static.backbone.conv1.conv.out_channels == 4
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        diff = (static(x, mode='tensor') - algo(x, mode='tensor')).abs()
    assert diff.max() <= 1e-5
    state = algo.state_dict()
    assert any(k.endswith('fusion_matrix') for k in state)
    fresh = _algorithm(prune_times=2).eval()
    fresh.load_state_dict(state)
    with torch.no_grad():
        assert torch.equal(fresh(x, mode='tensor'), algo(x, mode='tensor'))


def test_prune_times_from_the_runner():
    # a fresh current hub: no max_iters
    MessageHub.get_instance(f'test_dcff_no_runner_{uuid.uuid4().hex}')
    algo = _algorithm(step_freq=3)
    with pytest.raises(RuntimeError, match='max_iters'):
        algo.train_step(batch(), optim_wrapper(algo))
    hub = MessageHub.get_instance(f'test_dcff_prune_times_{uuid.uuid4().hex}')
    hub.update_info('max_iters', 10)
    try:
        algo = _algorithm(step_freq=3)
        algo.train_step(batch(), optim_wrapper(algo))
        assert algo.prune_times == 4  # iterations 0, 3, 6, 9
    finally:
        MessageHub.get_instance(f'test_dcff_after_{uuid.uuid4().hex}')


def test_errors():
    with pytest.raises(ValueError, match='is_deployed'):
        _algorithm(is_deployed=True)
    with pytest.raises(ValueError, match='temperature'):
        _algorithm(temperature_start=0)
    with pytest.raises(ValueError, match='DCFFChannelUnit'):
        MODELS.build(
            dict(
                type='DCFF',
                architecture=tiny_classifier(),
                mutator_cfg=dict(
                    type='ChannelMutator',
                    channel_unit_cfg=dict(type='L1MutableChannelUnit'),
                    parse_cfg=PARSE_CFG)))
