# Copyright (c) OpenMMLab. All rights reserved.
import copy
import random
from collections import Counter

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmrazor.models import SPOS, OneShotProbMutableOP
from mmrazor.registry import MODELS

from ...conftest import classifier_cfg, tiny_arch_setting
from ..test_algorithms.test_spos import batch

PROBS = [0.6, 0.3, 0.1, 0.0]


def prob_op_cfg(stage_mutable, probs=PROBS):
    cfg = copy.deepcopy(stage_mutable)
    cfg.update(type='mmrazor.OneShotProbMutableOP', choice_probs=probs)
    return cfg


def test_samples_follow_the_probabilities(stage_mutable):
    op = MODELS.build(
        dict(prob_op_cfg(stage_mutable),
             module_kwargs=dict(in_channels=8, out_channels=8, stride=1)))
    assert isinstance(op, OneShotProbMutableOP)
    random.seed(0)
    n = 4000
    counts = Counter(op.sample_choice() for _ in range(n))
    assert counts[op.choices[3]] == 0  # probability 0: never
    for name, p in zip(op.choices[:3], PROBS):
        # 4 standard deviations of a binomial count
        assert abs(counts[name] - n * p) <= 4 * (n * p * (1 - p))**0.5, (
            name, counts)
    # everything else is a OneShotMutableOP
    op.current_choice = op.choices[1]
    x = torch.randn(1, 8, 4, 4)
    assert op(x).shape == (1, 8, 4, 4)
    chosen = op.choices[1]
    op.fix_chosen(chosen)
    assert op.dump_chosen().chosen == chosen
    assert op.sample_choice() == chosen  # fixed: nothing else to draw


@pytest.mark.parametrize('probs, match', [
    (None, 'must be a list'),
    ([0.5, 0.5], '2 values for 4 candidates'),
    ([0.5, 0.5, 0.5, -0.5], '>= 0'),
    ([0.2, 0.2, 0.2, 0.2], 'sum to 1'),
])
def test_bad_probabilities(stage_mutable, probs, match):
    cfg = dict(prob_op_cfg(stage_mutable, probs),
               module_kwargs=dict(in_channels=8, out_channels=8, stride=1))
    with pytest.raises((TypeError, ValueError), match=match):
        MODELS.build(cfg)


def test_spos_trains_two_iterations_on_the_probabilities(stage_mutable):
    """SPOS samples each block by its probabilities: the 0-probability
    candidate never gets a gradient."""
    stage = prob_op_cfg(stage_mutable)
    arch = [[row[0], row[1], copy.deepcopy(stage)]
            for row in tiny_arch_setting()]
    torch.manual_seed(0)
    random.seed(0)
    algo = SPOS(architecture=classifier_cfg(arch))
    optim = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.1))
    never = 'shuffle_xception'
    before = {k: v.clone() for k, v in algo.state_dict().items()
              if f'_candidates.{never}.' in k and k.endswith('weight')}
    assert before
    for _ in range(2):
        log = algo.train_step(batch(), optim)
        assert torch.isfinite(log['loss'])
        assert never not in algo.mutator.current_choices.values()
    after = algo.state_dict()
    for key, value in before.items():
        torch.testing.assert_close(after[key], value)
