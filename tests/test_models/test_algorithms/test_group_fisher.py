# Copyright (c) OpenMMLab. All rights reserved.
"""GroupFisherAlgorithm: one channel at a time, the least informative."""
import pytest
import torch
from mmengine.model import MMDistributedDataParallel

from mmrazor.models.algorithms import GroupFisherAlgorithm
from mmrazor.models.task_modules.estimators import ResourceEstimator
from mmrazor.models.utils import export_pruned_model
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from ._prune_toy import (
    CONV1,
    CONV2,
    INPUT_SHAPE,
    PARSE_CFG,
    batch,
    optim_wrapper,
    tiny_classifier,
)


def _algorithm(unit_args=None, **kwargs) -> GroupFisherAlgorithm:
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='GroupFisherAlgorithm',
            architecture=tiny_classifier(),
            mutator=dict(
                type='GroupFisherChannelMutator',
                channel_unit_cfg=dict(
                    type='GroupFisherChannelUnit',
                    default_args=unit_args or {}),
                parse_cfg=PARSE_CFG),
            input_shape=INPUT_SHAPE,
            **kwargs))


def test_prunes_the_channel_without_fisher_information():
    algo = _algorithm(dict(mutate_linear=True), interval=1)
    with torch.no_grad():  # channel 5 of CONV2 no longer reaches the loss
        algo.architecture.head.fc.weight[:, 5] = 0
    wrapper = optim_wrapper(algo, lr=0.0)
    algo.train_step(batch(seed=0), wrapper)  # records the Fisher
    assert algo.num_pruned == 0
    units = {u.name: u for u in algo.mutator.units}
    assert float(units[CONV2].fisher_info.abs().sum()) == 0  # not folded
    algo.train_step(batch(seed=1), wrapper)  # folds it, prunes
    assert algo.num_pruned == 1
    assert units[CONV2].current_mask.nonzero().flatten().tolist() == [
        i for i in range(16) if i != 5
    ]
    assert algo.pruning_structure == {CONV1: 8, CONV2: 15}


def test_interval_and_max_prunes():
    algo = _algorithm(interval=3, max_prunes=2)
    assert [u.name for u in algo.prunable_units] == [CONV1]  # CONV2: fc
    wrapper = optim_wrapper(algo)
    counts = []
    for i in range(9):
        algo.train_step(batch(seed=i), wrapper)
        counts.append(algo.num_pruned)
    assert counts == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert algo.finished and algo.pruning_structure[CONV1] == 6
    # finished: no hook stays on the model
    assert not any(m._forward_pre_hooks
                   for m in algo.architecture.modules())


def test_stops_at_the_flops_target():
    algo = _algorithm(interval=1, target_flop_ratio=0.8)
    wrapper = optim_wrapper(algo)
    for i in range(12):
        algo.train_step(batch(seed=i), wrapper)
    assert algo.finished
    estimator = ResourceEstimator(
        input_shape=INPUT_SHAPE, flops_params_cfg=dict(use_meta=False))
    static, structure = export_pruned_model(algo)
    full = estimator.estimate(_algorithm().architecture)['flops']
    ratio = estimator.estimate(static)['flops'] / full
    assert ratio == pytest.approx(algo.flops_ratio)
    assert ratio <= 0.8
    # one channel fewer pruned would not have reached the target
    cost_one = (1 - ratio) / algo.num_pruned
    assert ratio + cost_one * 1.01 > 0.8
    assert structure == algo.pruning_structure


def test_structure_survives_a_checkpoint():
    algo = _algorithm(interval=1, max_prunes=3)
    wrapper = optim_wrapper(algo)
    for i in range(4):
        algo.train_step(batch(seed=i), wrapper)
    assert algo.finished
    mask = algo.mutator.units[0].current_mask.clone()
    fresh = _algorithm(interval=1, max_prunes=3)
    fresh.load_state_dict(algo.state_dict())
    assert torch.equal(fresh.mutator.units[0].current_mask, mask)
    assert fresh.finished and fresh.num_pruned == 3
    assert fresh.pruning_structure == {CONV1: 5, CONV2: 16}


def test_names_and_errors():
    assert MODEL_WRAPPERS.get('GroupFisherDDP') is MMDistributedDataParallel
    with pytest.raises(ValueError, match='interval'):
        _algorithm(interval=0)
    with pytest.raises(ValueError, match='target_flop_ratio'):
        _algorithm(target_flop_ratio=1.5)
    with pytest.raises(ValueError, match='GroupFisherChannelUnit'):
        MODELS.build(
            dict(
                type='GroupFisherAlgorithm',
                architecture=tiny_classifier(),
                mutator=dict(
                    type='ChannelMutator',
                    channel_unit_cfg=dict(type='L1MutableChannelUnit'),
                    parse_cfg=PARSE_CFG)))
