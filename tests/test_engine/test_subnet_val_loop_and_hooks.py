# Copyright (c) OpenMMLab. All rights reserved.
import glob
import os.path as osp

import pytest
import torch
import yaml
from mmengine.runner import Runner

from mmrazor.engine import SubnetValLoop, calibrate_bn_statistics

from .conftest import fake_loader


def train_cfg(make_search_cfg, tmp_path, **val_loop):
    """Two training iterations of the tiny supernet, then validation."""
    cfg = make_search_cfg(tmp_path)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2,
                         val_interval=2)
    cfg.val_dataloader = fake_loader()
    cfg.val_evaluator = dict(type='Accuracy', topk=(1, ))
    cfg.val_cfg = dict(type='mmrazor.SubnetValLoop', **val_loop)
    cfg.log_processor = dict(by_epoch=False)
    return cfg


def test_subnet_val_loop_prefixes_and_resources(make_search_cfg, tmp_path):
    cfg = train_cfg(
        make_search_cfg, tmp_path,
        subnets=('current', 'random'), num_random=2,
        calibrate_sample_num=8,
        estimator_cfg=dict(
            type='mmrazor.ResourceEstimator', input_shape=(1, 3, 32, 32)))
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert isinstance(runner.val_loop, SubnetValLoop)
    metrics = runner.val_loop.run()
    for prefix in ('', 'random_subnet_0.', 'random_subnet_1.'):
        assert f'{prefix}accuracy/top1' in metrics
        assert metrics[f'{prefix}flops'] > 0
    # The random subnets are the same at every validation.
    again = runner.val_loop.run()
    assert again['random_subnet_1.flops'] == metrics['random_subnet_1.flops']
    # ... and score the same: recalibration is seeded, and its loader (the
    # search scorer's, shared) starts fresh workers for each subnet.
    assert again == metrics
    assert runner.val_loop.scorer.calibrate_dataloader.persistent_workers \
        is False


def test_subnet_val_loop_rejects_unknown_kind(make_search_cfg, tmp_path):
    cfg = train_cfg(make_search_cfg, tmp_path, subnets=('largest', ))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match="'current', 'min', 'max'"):
        runner.build_val_loop(runner._val_loop)


def test_dump_subnet_and_estimate_resources_hooks(make_search_cfg, tmp_path):
    cfg = train_cfg(make_search_cfg, tmp_path)
    cfg.custom_hooks = [
        dict(type='mmrazor.DumpSubnetHook', interval=1, by_epoch=False),
        dict(
            type='mmrazor.EstimateResourcesHook',
            estimator_cfg=dict(
                type='mmrazor.ResourceEstimator',
                input_shape=(1, 3, 32, 32))),
    ]
    runner = Runner.from_cfg(cfg)
    runner.train()
    files = sorted(glob.glob(osp.join(tmp_path, 'subnet_iter_*.yaml')))
    assert [osp.basename(f) for f in files] == [
        'subnet_iter_1.yaml', 'subnet_iter_2.yaml'
    ]
    with open(files[-1]) as f:
        subnet = yaml.safe_load(f)
    assert set(subnet) == {f'backbone.layers.{i}.{j}'
                           for i in range(2) for j in range(2)}
    flops = runner.message_hub.get_scalar('val/resources/flops')
    assert flops.current() > 0


def test_calibrate_bn_statistics(tiny_supernet_cfg):
    from mmrazor.registry import MODELS
    algo = MODELS.build(dict(type='SPOS', architecture=tiny_supernet_cfg))
    algo.mutator.set_choices(algo.mutator.sample_choices())
    loader = Runner.build_dataloader(fake_loader(8))
    used = calibrate_bn_statistics(algo, loader, num_samples=8)
    assert used == 8
    bn = algo.architecture.backbone.conv1.bn
    assert not torch.allclose(bn.running_mean, torch.zeros_like(
        bn.running_mean))
    assert bn.momentum == 0.1  # restored
    assert algo.training  # mode restored


def test_calibrate_bn_mixin_uses_the_runners_model(tiny_supernet_cfg):
    from types import SimpleNamespace

    from mmrazor.engine.runner.utils import CalibrateBNMixin
    from mmrazor.registry import MODELS
    algo = MODELS.build(dict(type='SPOS', architecture=tiny_supernet_cfg))
    algo.mutator.set_choices(algo.mutator.sample_choices())

    class Loop(CalibrateBNMixin):
        runner = SimpleNamespace(model=algo)

    loader = Runner.build_dataloader(fake_loader(8))
    assert Loop().calibrate_bn_statistics(loader, 4) == 4
    bn = algo.architecture.backbone.conv1.bn
    assert not torch.allclose(bn.running_mean,
                              torch.zeros_like(bn.running_mean))
