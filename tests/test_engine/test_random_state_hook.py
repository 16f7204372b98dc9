# Copyright (c) OpenMMLab. All rights reserved.
"""A supernet training resumed from its epoch-1 checkpoint ends with the
very weights of the uninterrupted run."""
import random

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.engine import RandomStateHook, add_default_hooks
from mmrazor.engine.hooks.random_state_hook import (
    capture_random_state,
    restore_random_state,
)
from mmrazor.utils.checkpoint import load_from_local

from ..conftest import classifier_cfg, tiny_arch_setting
from .conftest import fake_loader


def supernet_cfg(work_dir, max_epochs, resume_from=None, hooks=True):
    """A tiny SPOS supernet on 8 shuffled fake images, 2 iterations per
    epoch, validated after every epoch (its dataloader draws from torch's
    generator, as random augmentation would)."""
    cfg = Config(dict(
        default_scope='mmcls',
        model=dict(type='mmrazor.SPOS',
                   architecture=classifier_cfg(tiny_arch_setting())),
        work_dir=str(work_dir),
        train_dataloader=fake_loader(8, shuffle=True),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs,
                       val_interval=1),
        val_dataloader=fake_loader(4, shuffle=True),
        val_evaluator=dict(type='Accuracy'),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01,
                                          momentum=0.9)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1)),
        randomness=dict(seed=7),
        resume=resume_from is not None,
        load_from=resume_from,
        log_level='WARNING'))
    if hooks:
        add_default_hooks(cfg)
    return cfg


def train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def differing(a, b):
    return [k for k in a if not torch.equal(a[k], b[k])]


def test_resume_equals_uninterrupted(tmp_path):
    full = train(supernet_cfg(tmp_path / 'full', 2))
    train(supernet_cfg(tmp_path / 'part', 1))
    ckpt = str(tmp_path / 'part' / 'epoch_1.pth')
    resumed = train(supernet_cfg(tmp_path / 'resumed', 2, ckpt))
    assert differing(full, resumed) == []
    # The states are in the checkpoint, readable by the weights-only loader.
    saved = load_from_local(ckpt)['random_state']
    assert (saved['epoch'], saved['iter'], saved['boundary']) == (1, 2,
                                                                  'epoch')
    assert len(saved['states']) == 1 and saved['sampler_seed'] == 7


def test_without_the_hook_resume_diverges(tmp_path):
    """What the hook fixes: mmengine alone resumes with other numbers."""
    full = train(supernet_cfg(tmp_path / 'full', 2, hooks=False))
    train(supernet_cfg(tmp_path / 'part', 1, hooks=False))
    resumed = train(supernet_cfg(tmp_path / 'resumed', 2,
                                 str(tmp_path / 'part' / 'epoch_1.pth'),
                                 hooks=False))
    assert differing(full, resumed)


def test_load_from_does_not_restore(tmp_path):
    """Weights only (``load_from`` without resume): the generators are not
    touched."""
    hook = RandomStateHook()
    hook.after_load_checkpoint(None, dict(random_state=dict(
        epoch=3, iter=30, boundary='epoch', states=[capture_random_state()],
        sampler_seed=None)))

    class FakeRunner:
        epoch, iter = 0, 0

    random.seed(1)
    expected = random.random()
    random.seed(1)
    hook.before_train_epoch(FakeRunner())
    assert random.random() == expected
    assert hook._pending is None


def test_capture_and_restore_roundtrip():
    state = capture_random_state()
    a = (random.random(), np.random.rand(), torch.rand(1))
    restore_random_state(state)
    b = (random.random(), np.random.rand(), torch.rand(1))
    assert a[:2] == b[:2] and torch.equal(a[2], b[2])


def test_other_world_size_warns():
    """States of 2 ranks resumed by 1 process (not distributed here)."""
    hook = RandomStateHook()
    states = [capture_random_state()] * 2
    with pytest.warns(UserWarning, match='random states of 2 ranks'):
        hook.after_load_checkpoint(None, dict(random_state=dict(
            epoch=1, iter=2, boundary='epoch', states=states,
            sampler_seed=None)))
