# Copyright (c) OpenMMLab. All rights reserved.
"""GumbelTemperatureHook: the schedules' values, and a Darts search with
Gumbel routes whose temperature follows the hook named in a config."""
import math

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.engine.hooks.gumbel_temperature_hook import gumbel_temperature
from mmrazor.models.mutables import GumbelChoiceRoute
from mmrazor.registry import HOOKS
from mmrazor.testing.darts import tiny_darts_classifier


def test_schedules_by_hand():
    # linear 10 -> 0.1 over 5 epochs: steps of 2.475
    assert [gumbel_temperature(e / 4, 10, 0.1) for e in range(5)] == \
        pytest.approx([10, 7.525, 5.05, 2.575, 0.1], abs=1e-12)
    # geometric: the ratio of successive values is constant (0.01 ** 0.25)
    exp = [gumbel_temperature(e / 4, 10, 0.1, 'exp') for e in range(5)]
    assert exp == pytest.approx([10, 10 * 0.1**0.5, 1, 0.1**0.5, 0.1],
                                rel=1e-12)
    cos = [gumbel_temperature(t, 4, 1, 'cosine') for t in (0, 0.5, 1)]
    assert cos == pytest.approx([4, 2.5, 1], abs=1e-12)
    # outside [0, 1] the ends hold
    assert gumbel_temperature(1.5, 10, 0.1) == pytest.approx(0.1)
    assert gumbel_temperature(-1, 10, 0.1) == 10
    assert math.isclose(gumbel_temperature(1, 2, 3), 3)  # may rise too


@pytest.mark.parametrize('kwargs, match', [
    (dict(tau_min=0), '`tau_min` must be a number > 0'),
    (dict(tau_max=True), '`tau_max` must be a number > 0'),
    (dict(schedule='step'), "one of \\['linear', 'exp', 'cosine'\\]"),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HOOKS.build(dict(type='mmrazor.GumbelTemperatureHook', **kwargs))


def _cfg(tmp_path, route, hook):
    loader = dict(
        batch_size=2,
        num_workers=0,
        dataset=dict(type='mmrazor.FakeClsDataset', num_samples=2,
                     image_size=8, num_classes=4),
        sampler=dict(type='DefaultSampler', shuffle=False))
    return Config(
        dict(
            default_scope='mmcls',
            model=dict(
                type='mmrazor.Darts',
                architecture=tiny_darts_classifier(
                    base_channels=2, num_layers=1, num_nodes=2,
                    ops=('skip_connect', 'avg_pool_3x3'),
                    route_cfg=dict(type=route))),
            work_dir=str(tmp_path),
            train_dataloader=loader,
            train_cfg=dict(type='mmrazor.DartsEpochBasedTrainLoop',
                           max_epochs=3, mutator_dataloader=loader),
            optim_wrapper=dict(
                constructor='mmrazor.SeparateOptimWrapperConstructor',
                architecture=dict(optimizer=dict(type='SGD', lr=0.01)),
                mutator=dict(optimizer=dict(type='Adam', lr=3e-4))),
            custom_hooks=[hook],
            default_hooks=dict(
                checkpoint=dict(type='CheckpointHook', interval=-1)),
            randomness=dict(seed=0),
            log_level='WARNING'))


def test_darts_search_follows_the_schedule(tmp_path):
    hook = dict(type='mmrazor.GumbelTemperatureHook', tau_max=10,
                tau_min=0.1)
    runner = Runner.from_cfg(
        _cfg(tmp_path, 'mmrazor.GumbelChoiceRoute', hook))
    runner.train()
    history = runner.message_hub.get_scalar('train/gumbel_tau').data[0]
    assert list(history) == pytest.approx([10, 5.05, 0.1])
    routes = [m for m in runner.model.modules()
              if isinstance(m, GumbelChoiceRoute)]
    assert len(routes) == 2 and all(r.tau == pytest.approx(0.1)
                                    for r in routes)


def test_a_model_without_gumbel_routes_is_refused(tmp_path):
    hook = dict(type='mmrazor.GumbelTemperatureHook')
    runner = Runner.from_cfg(
        _cfg(tmp_path, 'mmrazor.DiffChoiceRoute', hook))
    with pytest.raises(RuntimeError, match='found no GumbelChoiceRoute'):
        runner.train()
