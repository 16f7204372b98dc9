# Copyright (c) OpenMMLab. All rights reserved.
"""Once-for-All's progressive shrinking: the sampled space grows by phase."""
import logging
from types import SimpleNamespace

import pytest
import torch.nn as nn

from mmrazor.engine.hooks import ProgressiveShrinkingHook
from mmrazor.models import NasMutator, OneShotMutableValue

PHASES = [
    dict(begin=0),
    dict(begin=2, kernel_size='all'),
    dict(begin=4, depth=[3, 4]),
    dict(begin=5, depth='all'),
    dict(begin=7, expand_ratio=[4, 6]),
]


class Space(nn.Module):
    """Search groups named like the OFA space's (fine-grained)."""

    def __init__(self) -> None:
        super().__init__()
        self.k0 = OneShotMutableValue([3, 5, 7],
                                      alias='layers.2.0.kernel_size')
        self.k1 = OneShotMutableValue([3, 5, 7],
                                      alias='layers.2.1.kernel_size')
        self.fixed = OneShotMutableValue([3], alias='layers.1.0.kernel_size')
        self.depth = OneShotMutableValue([2, 3, 4], alias='layers.2.depth')
        self.ratio = OneShotMutableValue([3, 4, 6],
                                         alias='layers.2.0.expand_ratio')
        self.width = OneShotMutableValue([16, 24], alias='layers.2.width')


@pytest.fixture
def runner():
    mutator = NasMutator()
    mutator.prepare_from_supernet(Space())
    return SimpleNamespace(epoch=0, iter=0,
                           model=SimpleNamespace(mutator=mutator),
                           logger=logging.getLogger('test'))


def draws(mutator, n=60):
    """All choices each group took in ``n`` random draws."""
    seen = {}
    for _ in range(n):
        for key, choice in mutator.sample_choices().items():
            seen.setdefault(key, set()).add(choice)
    return seen


def test_phases_open_dims_in_order(runner):
    hook = ProgressiveShrinkingHook(PHASES)
    assert hook.dims == ('kernel_size', 'depth', 'expand_ratio')
    mutator = runner.model.mutator
    expected = {  # epoch: (kernel sizes, depths, ratios)
        0: ({7}, {4}, {6}),
        2: ({3, 5, 7}, {4}, {6}),
        4: ({3, 5, 7}, {3, 4}, {6}),
        6: ({3, 5, 7}, {2, 3, 4}, {6}),
        9: ({3, 5, 7}, {2, 3, 4}, {4, 6}),
    }
    for epoch, (kernels, depths, ratios) in expected.items():
        runner.epoch = epoch
        hook.before_train_iter(runner, 0)
        seen = draws(mutator)
        assert seen['layers.2.0.kernel_size'] == kernels, epoch
        assert seen['layers.2.1.kernel_size'] == kernels, epoch
        assert seen['layers.2.depth'] == depths, epoch
        assert seen['layers.2.0.expand_ratio'] == ratios, epoch
        # not governed: sampled in every phase
        assert seen['layers.2.width'] == {16, 24}, epoch
        # the sandwich's ends stay inside the phase
        smallest = mutator.sample_choices('min')
        assert smallest['layers.2.depth'] == min(depths)
        assert mutator.sample_choices('max')['layers.2.depth'] == 4
    hook.after_train(runner)
    assert mutator.sampling_restrictions == {}
    assert draws(mutator)['layers.2.depth'] == {2, 3, 4}


def test_by_iter_and_resume(runner):
    hook = ProgressiveShrinkingHook(
        [dict(begin=0), dict(begin=10, depth=[4, 2])], by_epoch=False)
    runner.iter = 25  # a resumed run starts in its phase
    hook.before_train_iter(runner, 0)
    # only `depth` is governed; the group keeps its own order
    assert runner.model.mutator.sampling_restrictions == {
        'layers.2.depth': [2, 4]}


@pytest.mark.parametrize('phases,match', [
    ([], 'non-empty list'),
    ([dict(begin=1)], 'begin at 0'),
    ([dict(begin=0), dict(begin=0, depth='all')], 'greater than'),
    ([dict(depth='all')], '`begin` key'),
    ([dict(begin=0, depth=[])], "'all' or a non-empty list"),
])
def test_bad_phases(phases, match):
    with pytest.raises(ValueError, match=match):
        ProgressiveShrinkingHook(phases)


def test_undeclared_dim_and_bad_restriction(runner):
    with pytest.raises(ValueError, match=r"not in dims=\['depth'\]"):
        ProgressiveShrinkingHook([dict(begin=0, kernel_size='all')],
                                 dims=['depth'])
    mutator = runner.model.mutator
    with pytest.raises(KeyError, match='no search group'):
        mutator.restrict_sampling({'layers.9.depth': [2]})
    with pytest.raises(ValueError, match='subset of its choices'):
        mutator.restrict_sampling({'layers.2.depth': [5]})
    hook = ProgressiveShrinkingHook(PHASES)
    with pytest.raises(TypeError, match='NasMutator'):
        hook.before_train_iter(
            SimpleNamespace(epoch=0, model=nn.Linear(1, 1)), 0)
