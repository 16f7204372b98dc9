# Copyright (c) OpenMMLab. All rights reserved.
"""PTQ, QAT and LSQ loops on a tiny ResNet (8 channels, 32x32 fake data)."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

import mmrazor.testing  # noqa: F401,E402  (registers FakeClsDataset)
from mmrazor.models.fake_quants import LearnableFakeQuantize  # noqa: E402
from mmrazor.testing.quantization import tiny_quant_cfg  # noqa: E402


def loader(num_samples=8, shuffle=False):
    return dict(
        batch_size=4,
        num_workers=0,
        dataset=dict(
            type='mmrazor.FakeClsDataset',
            num_samples=num_samples,
            image_size=32,
            num_classes=10),
        sampler=dict(type='DefaultSampler', shuffle=shuffle))


def run_cfg(work_dir, lsq=False, **train):
    cfg = dict(
        model=tiny_quant_cfg('OpenVINOQuantizer', lsq=lsq),
        work_dir=str(work_dir),
        train_dataloader=loader(shuffle=True),
        val_dataloader=loader(),
        val_evaluator=dict(type='mmcls.Accuracy', topk=(1, )),
        val_cfg=dict(type='mmrazor.QATValLoop'),
        test_dataloader=loader(),
        test_evaluator=dict(type='mmcls.Accuracy', topk=(1, )),
        test_cfg=dict(
            type='mmrazor.PTQLoop',
            calibrate_dataloader=loader(),
            calibrate_steps=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(
            type='mmrazor.LSQEpochBasedLoop' if lsq else
            'mmrazor.QATEpochBasedLoop', max_epochs=2, **train),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1)),
        log_level='WARNING',
        randomness=dict(seed=0))
    return Config(cfg)


def scales(model):
    return [m.scale.detach().clone() for m in model.quant_modules()]


def test_ptq_saves_and_reloads_without_calibrating(tmp_path):
    runner = Runner.from_cfg(run_cfg(tmp_path / 'a'))
    metrics = runner.test()
    saved = osp.join(str(tmp_path / 'a'), 'model_ptq.pth')
    assert osp.isfile(saved) and 'accuracy/top1' in metrics
    state = torch.load(saved, weights_only=True)['state_dict']
    cfg = run_cfg(tmp_path / 'b')
    cfg.load_from = saved
    # a calibration dataloader that would change the scales if used
    cfg.test_cfg.calibrate_dataloader.dataset.seed = 7
    again = Runner.from_cfg(cfg)
    metrics_again = again.test()
    assert metrics_again == metrics
    for before, after in zip(scales(runner.model), scales(again.model)):
        assert torch.equal(before, after)
    assert again.model.calibrated.item() == 1
    assert any('activation_post_process.max_val' in k for k in state)


def test_ptq_without_batches_fails(tmp_path):
    runner = Runner.from_cfg(run_cfg(tmp_path))
    runner.test_loop.calibrate_dataloader = []
    with pytest.raises(RuntimeError, match='gave no batch, so no scale'):
        runner.test()


def test_qat_observers_and_bn_follow_the_schedule(tmp_path):
    cfg = run_cfg(tmp_path, disable_observer_begin=2, freeze_bn_begin=2)
    runner = Runner.from_cfg(cfg)
    loop = runner.build_train_loop(cfg.train_cfg)
    runner._train_loop = loop
    model = runner.model
    history = {}

    def after_epoch(_runner):
        history[loop.epoch] = (scales(model), model.architecture.backbone.
                               bn1.running_mean.clone())

    from mmengine.hooks import Hook
    hook = Hook()
    hook.after_train_epoch = after_epoch
    runner.register_hook(hook)
    start_bn = model.architecture.backbone.bn1.running_mean.clone()
    runner.train()
    scales1, bn1 = history[0]
    scales2, bn2 = history[1]
    assert not torch.equal(bn1, start_bn)  # epoch 1 updates BN stats
    assert torch.equal(bn2, bn1)  # epoch 2: frozen
    for a, b in zip(scales1, scales2):  # epoch 2: observers off
        assert torch.equal(a, b)
    scalars = runner.message_hub.log_scalars
    assert 'val/qat.accuracy/top1' in scalars
    assert 'val/original.accuracy/top1' in scalars


def test_lsq_initialises_then_learns_and_resumes(tmp_path):
    cfg = run_cfg(tmp_path, lsq=True)
    cfg.train_cfg.max_epochs = 1
    runner = Runner.from_cfg(cfg)
    model = runner.model
    lsq = [m for m in model.quant_modules()
           if isinstance(m, LearnableFakeQuantize)]
    assert lsq and not any(m._initialized for m in lsq)
    runner.train()
    assert all(m._initialized for m in lsq)
    assert all(m.learning_enabled.item() == 0 for m in lsq)  # val state
    learned = scales(model)

    resumed_cfg = copy.deepcopy(cfg)
    resumed_cfg.train_cfg.max_epochs = 2
    resumed_cfg.resume = True
    resumed_cfg.load_from = osp.join(str(tmp_path), 'epoch_1.pth')
    resumed = Runner.from_cfg(resumed_cfg)
    first_forward = {}

    def record(module, args, output):
        first_forward.setdefault('scales', scales(resumed.model))

    handle = resumed.model.register_forward_hook(record)
    resumed.train()
    handle.remove()
    # resumed step sizes are the learned ones, not re-estimated
    for a, b in zip(learned, first_forward['scales']):
        assert torch.equal(a, b)
    assert resumed.epoch == 2
