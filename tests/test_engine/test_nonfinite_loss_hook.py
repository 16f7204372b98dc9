# Copyright (c) OpenMMLab. All rights reserved.
"""One NaN image stops a run (naming iteration and loss) before any
checkpoint is written, or is skipped when the config says so."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.engine import NonFiniteLossHook, add_default_hooks

from ..conftest import classifier_cfg, tiny_arch_setting
from ..test_models.test_algorithms._prune_toy import tiny_classifier
from . import poisoned_data  # noqa: F401  (registers PoisonedClsDataset)


def run_cfg(work_dir, model, poisoned=(5, ), custom_hooks=None, size=32,
            max_epochs=1):
    """8 images, batches of 4, 1 epoch: image 5 is in iteration 2."""
    cfg = Config(dict(
        default_scope='mmcls',
        custom_imports=dict(imports=['tests.test_engine.poisoned_data'],
                            allow_failed_imports=False),
        model=model,
        work_dir=str(work_dir),
        train_dataloader=dict(
            batch_size=4, num_workers=0,
            dataset=dict(type='mmrazor.PoisonedClsDataset', num_samples=8,
                         image_size=size, num_classes=4, poisoned=poisoned),
            sampler=dict(type='DefaultSampler', shuffle=False)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1,
                                          momentum=0.9)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1)),
        custom_hooks=custom_hooks or [],
        randomness=dict(seed=0),
        log_level='WARNING'))
    add_default_hooks(cfg)
    return cfg


def spos_model():
    return dict(type='mmrazor.SPOS',
                architecture=classifier_cfg(tiny_arch_setting(),
                                            num_classes=4))


def checkpoints(work_dir):
    return glob.glob(osp.join(str(work_dir), '*.pth'))


def test_algorithm_run_stops_before_a_checkpoint(tmp_path):
    runner = Runner.from_cfg(run_cfg(tmp_path, spos_model()))
    with pytest.raises(FloatingPointError,
                       match=r'^Non-finite loss at iteration 2 \(epoch 1\): '
                       r'loss=nan\. Training stopped before the optimizer '
                       r'step'):
        runner.train()
    assert checkpoints(tmp_path) == []
    assert all(bool(torch.isfinite(p).all())
               for p in runner.model.parameters())


def test_algorithm_run_skips_the_batch(tmp_path):
    hooks = [dict(type='mmrazor.NonFiniteLossHook', action='skip')]
    cfg = run_cfg(tmp_path, spos_model(), poisoned=(1, 5),
                  custom_hooks=hooks)
    assert [h['type'] for h in cfg.custom_hooks].count(
        'mmrazor.NonFiniteLossHook') == 1
    runner = Runner.from_cfg(cfg)
    with pytest.warns(UserWarning) as records:
        runner.train()
    skipped = [str(r.message) for r in records
               if 'skipped' in str(r.message)]
    assert [m.split(':')[0] for m in skipped] == [
        'Non-finite loss at iteration 1 (epoch 1)',
        'Non-finite loss at iteration 2 (epoch 1)']
    assert runner.model.nonfinite_loss == 'skip'
    state = torch.load(checkpoints(tmp_path)[0], weights_only=False)
    assert all(bool(torch.isfinite(v).all())
               for v in state['state_dict'].values()
               if v.is_floating_point())


def test_plain_model_stops_after_the_step(tmp_path):
    cfg = run_cfg(tmp_path, tiny_classifier(), size=16)
    cfg.model.data_preprocessor.num_classes = 4
    runner = Runner.from_cfg(cfg)
    with pytest.raises(FloatingPointError,
                       match=r'iteration 2 \(epoch 1\): loss=nan\. Training '
                       r'stopped after the optimizer step'):
        runner.train()
    assert checkpoints(tmp_path) == []


def test_plain_model_cannot_skip(tmp_path):
    hooks = [dict(type='NonFiniteLossHook', action='skip',
                  _scope_='mmrazor')]
    runner = Runner.from_cfg(run_cfg(tmp_path, tiny_classifier(), size=16,
                                     custom_hooks=hooks))
    with pytest.raises(ValueError, match="needs an mmrazor algorithm.*"
                       "ImageClassifier.*action='raise'"):
        runner.train()


def test_default_hooks_and_bad_action():
    cfg = Config(dict(custom_hooks=[dict(type='mmrazor.RandomStateHook')]))
    assert add_default_hooks(cfg) == ['NonFiniteLossHook']
    assert add_default_hooks(cfg) == []
    assert len(cfg.custom_hooks) == 2
    with pytest.raises(ValueError, match=r"\['raise', 'skip'\].*'warn'"):
        NonFiniteLossHook(action='warn')
    with pytest.raises(TypeError, match='custom_hooks must be a list'):
        add_default_hooks(Config(dict(custom_hooks=dict(a=1))))
