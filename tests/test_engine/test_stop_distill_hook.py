# Copyright (c) OpenMMLab. All rights reserved.
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.engine import StopDistillHook

from .test_distill_loop_and_hook import run_cfg


@pytest.fixture(autouse=True)
def plain_config_text(monkeypatch):
    """The runner logs its config as yapf-formatted text, which takes
    seconds; plain text does (nothing here reads it)."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))


def test_stops_by_iteration_in_an_iter_based_run(tmp_path):
    cfg = run_cfg(tmp_path, hooks=[dict(type='mmrazor.StopDistillHook',
                                        stop_iter=3)])
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=5,
                         val_interval=5)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    runner = Runner.from_cfg(cfg)
    logged = []
    orig = runner.model.loss

    def spy(*args, **kwargs):
        losses = orig(*args, **kwargs)
        logged.append(sorted(losses))
        return losses

    runner.model.loss = spy
    runner.train()
    assert len(logged) == 5
    def distills(keys):
        return any(k.endswith('loss_kl') for k in keys)

    assert all(distills(keys) for keys in logged[:3])
    assert not any(distills(keys) for keys in logged[3:])
    assert bool(runner.model.distillation_stopped)


@pytest.mark.parametrize('kwargs, match', [
    (dict(), 'exactly one'),
    (dict(stop_epoch=1, stop_iter=10), 'exactly one'),
    (dict(stop_iter=-1), 'stop_iter'),
    (dict(stop_epoch=True), 'stop_epoch'),
])
def test_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StopDistillHook(**kwargs)
    assert StopDistillHook(2).stop_epoch == 2  # positional, as before
