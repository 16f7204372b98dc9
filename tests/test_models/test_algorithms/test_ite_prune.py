# Copyright (c) OpenMMLab. All rights reserved.
"""ItePruneAlgorithm: the schedule reaches the target structure exactly."""
import json
import uuid

import pytest
import torch
from mmengine.logging import MessageHub

from mmrazor.models.algorithms import ItePruneAlgorithm
from mmrazor.registry import MODELS

from ._prune_toy import (
    CONV1,
    CONV2,
    PARSE_CFG,
    batch,
    optim_wrapper,
    tiny_classifier,
)


def _algorithm(choice_mode='ratio', **kwargs) -> ItePruneAlgorithm:
    torch.manual_seed(0)
    kwargs.setdefault('by_epoch', False)
    return MODELS.build(
        dict(
            type='ItePruneAlgorithm',
            architecture=tiny_classifier(),
            mutator_cfg=dict(
                type='ChannelMutator',
                channel_unit_cfg=dict(
                    type='L1MutableChannelUnit',
                    default_args=dict(choice_mode=choice_mode)),
                parse_cfg=PARSE_CFG),
            **kwargs))


def _l1_top(conv: torch.nn.Module, k: int) -> list:
    score = conv.weight.detach().abs().flatten(1).sum(1)
    return sorted(score.topk(k).indices.tolist())


def test_linear_schedule_reaches_target_exactly():
    algo = _algorithm(
        target_pruning_ratio={CONV1: 0.5, CONV2: 0.25},
        prune_times=3,
        step_freq=2)
    wrapper = optim_wrapper(algo)
    seen = []
    for i in range(7):
        if i == 4:  # the last step keeps the top-4 L1 filters of now
            top1 = _l1_top(algo.architecture.backbone.conv1.conv, 4)
            top2 = _l1_top(algo.architecture.backbone.conv2.conv, 4)
        algo.train_step(batch(seed=i), wrapper)
        seen.append(tuple(algo.pruning_structure.values()))
    assert seen == [(7, 12), (7, 12), (5, 8), (5, 8), (4, 4), (4, 4),
                    (4, 4)]
    assert algo.num_prunes == 3 and algo.num_steps == 7
    units = algo.units_by_name
    assert units[CONV1].current_mask.nonzero().flatten().tolist() == top1
    assert units[CONV2].current_mask.nonzero().flatten().tolist() == top2
    assert units[CONV1].current_choice == 0.5


def test_without_linear_schedule_and_in_number_mode():
    algo = _algorithm(
        choice_mode='number',
        target_pruning_ratio={CONV1: 2},
        prune_times=2,
        linear_schedule=False)
    algo.train_step(batch(), optim_wrapper(algo))
    assert algo.pruning_structure == {CONV1: 2, CONV2: 16}
    linear = _algorithm(
        choice_mode='number', target_pruning_ratio={CONV1: 2},
        prune_times=2)
    assert linear.choices_at(1) == {CONV1: 5}
    assert linear.choices_at(2) == {CONV1: 2}


def test_eval_forward_does_not_prune():
    algo = _algorithm(target_pruning_ratio={CONV1: 0.5})
    algo.eval()
    algo(torch.rand(1, 3, 16, 16), mode='tensor')
    assert algo.num_steps == 0
    assert algo.pruning_structure[CONV1] == 8


@pytest.fixture
def epoch_hub():
    hub = MessageHub.get_instance(f'test_ite_prune_epochs_{uuid.uuid4().hex}')
    hub.update_info('max_epochs', 2)
    hub.update_info('max_iters', 6)
    yield hub
    # a clean current hub for the tests that follow
    MessageHub.get_instance(f'test_ite_prune_after_{uuid.uuid4().hex}')


def test_step_freq_in_epochs(epoch_hub):
    algo = _algorithm(
        target_pruning_ratio={CONV1: 0.5}, prune_times=2, by_epoch=None)
    wrapper = optim_wrapper(algo)
    counts = []
    for i in range(6):
        algo.train_step(batch(seed=i), wrapper)
        counts.append(algo.pruning_structure[CONV1])
    assert counts == [6, 6, 6, 4, 4, 4]  # steps at iterations 0 and 3


def test_structure_survives_a_checkpoint():
    algo = _algorithm(target_pruning_ratio={CONV1: 0.5})
    algo.train_step(batch(), optim_wrapper(algo))
    mask = algo.units_by_name[CONV1].current_mask.clone()
    with torch.no_grad():  # L1 would now keep the other filters
        conv = algo.architecture.backbone.conv1.conv
        conv.weight[mask] *= 1e-3
    state = algo.state_dict()
    assert '_extra_state' in state
    fresh = _algorithm(target_pruning_ratio={CONV1: 0.5})
    fresh.load_state_dict(state)
    assert torch.equal(fresh.units_by_name[CONV1].current_mask, mask)
    assert fresh.num_steps == 1 and fresh.num_prunes == 1
    fresh.train_step(batch(), optim_wrapper(fresh))  # no step left
    assert torch.equal(fresh.units_by_name[CONV1].current_mask, mask)


def test_target_from_a_config_template(tmp_path):
    algo = _algorithm()
    template = algo.mutator.config_template()
    template[CONV1]['choice'] = 0.25
    path = tmp_path / 'target.json'
    path.write_text(json.dumps(template))
    algo = _algorithm(target_pruning_ratio=str(path))
    assert algo.target_pruning_ratio == {CONV1: 0.25, CONV2: 1.0}


def test_errors():
    with pytest.raises(KeyError, match='backbone.nope'):
        _algorithm(target_pruning_ratio={'backbone.nope': 0.5})
    with pytest.raises(ValueError, match='choice_mode "number"'):
        _algorithm(choice_mode='number', target_pruning_ratio={CONV1: 0.5})
    with pytest.raises(ValueError, match='step_freq'):
        _algorithm(step_freq=0)
    with pytest.raises(TypeError, match='ratio'):
        _algorithm(target_pruning_ratio={CONV1: '0.5'})
