# Copyright (c) OpenMMLab. All rights reserved.
"""The BigNAS and SPOS MobileNet configs build and run on fake data.

The ImageNet configs are the full-size ones: only the data is replaced (by
:func:`mmrazor.testing.use_fake_data`, 32x32 random images) and, for the
BigNAS supernet, the searched input sizes are shrunk so that its largest
subnet stays cheap; the subnet config keeps its 192x192 subnet.
"""
import math
import os.path as osp

import pytest
import yaml
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.models import ResourceEstimator
from mmrazor.models.utils import count_mutables
from mmrazor.registry import MODELS
from mmrazor.testing import use_fake_data

from ..conftest import CONFIG_DIR
from ..test_tools.conftest import (
    TOOLS,
    free_port,
    read_log,
    run_dirs,
    run_tool,
    tool_env,
)

BIGNAS_DIR = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'bignas')
SPOS_DIR = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'spos')
SMALL_SHAPES = dict(value_list=[[32, 32], [48, 48]], default_value=[32, 32])


# Small forwards run faster on one thread on a shared CPU.
pytestmark = pytest.mark.usefixtures('one_thread')


def fake(path: str, tmp_path, **kwargs) -> Config:
    cfg = use_fake_data(path, str(tmp_path), num_samples=4, batch_size=2,
                        image_size=32, **kwargs)
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    return cfg


def test_supernet_config_trains_two_iters(tmp_path):
    cfg = fake(osp.join(BIGNAS_DIR,
                        'attentive_mobilenet_supernet_32xb64_in1k.py'),
               tmp_path)
    assert cfg.model.type == 'BigNAS'
    assert cfg.model.architecture.head.in_channels == 1984
    cfg.model.architecture.input_resizer_cfg.mutable_shape.update(
        SMALL_SHAPES)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    scalars = runner.message_hub.log_scalars
    for key in ('max_subnet.loss', 'random_subnet_0.loss_kl',
                'random_subnet_1.loss_kl', 'min_subnet.loss_kl'):
        assert math.isfinite(scalars[f'train/{key}'].current()), key
    # the validation ran the largest and the smallest subnet
    assert 'val/max_subnet.accuracy/top1' in scalars
    assert 'val/min_subnet.accuracy/top1' in scalars
    assert osp.exists(osp.join(str(tmp_path), 'iter_2.pth'))


def test_search_config_one_epoch(tmp_path):
    cfg = Config.fromfile(
        osp.join(BIGNAS_DIR, 'attentive_mobilenet_search_8xb128_in1k.py'))
    loop = cfg.train_cfg
    assert loop.type == 'mmrazor.EvolutionSearchLoop'
    assert loop.constraints_range == dict(flops=(0., 300.))
    cfg = fake(cfg, tmp_path)
    cfg.model.architecture.input_resizer_cfg.mutable_shape.update(
        SMALL_SHAPES)
    loop.dataloader = cfg.val_dataloader
    loop.update(max_epochs=1, num_candidates=2, top_k=1, num_mutation=1,
                num_crossover=1, calibrate_sample_num=2)
    cfg.train_cfg = loop
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert len(runner.train_loop.records) == 2
    path = osp.join(str(tmp_path), 'best_fix_subnet.yaml')
    with open(path) as f:
        best = yaml.safe_load(f)
    assert len(best) == 31
    assert 'backbone.mutables.layers.1.kernel_size' in best
    # the file retrains as the subnet config does
    static = MODELS.build(
        dict(type='mmrazor.sub_model', cfg=cfg.model.architecture,
             fix_subnet=path))
    assert static.input_resizer.size == tuple(best['input_resizer.'
                                                   'mutable_attrs.shape']
                                              ['chosen'])


def test_subnet_config_is_the_min_subnet_and_trains(tmp_path):
    cfg = fake(osp.join(BIGNAS_DIR,
                        'attentive_mobilenet_subnet_8xb256_in1k.py'),
               tmp_path)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert model.input_resizer.size == (192, 192)
    assert model.backbone.last_conv.feature_mix_layer.conv.out_channels == \
        1792
    assert [len(model.backbone.layers[i]) for i in range(7)] == \
        [1, 3, 3, 3, 3, 3, 1]
    runner.train()
    assert runner.iter == 2
    assert math.isfinite(
        runner.message_hub.log_scalars['train/loss'].current())


def test_spos_mobilenet_supernet_config_trains_two_iters(tmp_path):
    runner = Runner.from_cfg(
        fake(osp.join(SPOS_DIR, 'spos_mobilenet_supernet_8xb128_in1k.py'),
             tmp_path))
    runner.train()
    assert runner.iter == 2
    assert math.isfinite(
        runner.message_hub.log_scalars['train/loss'].current())


def test_spos_mobilenet_subnet_config_builds_the_example_subnet():
    cfg = Config.fromfile(
        osp.join(SPOS_DIR, 'spos_mobilenet_subnet_8xb128_in1k.py'))
    model = MODELS.build(cfg.model)
    assert count_mutables(model) == 0
    assert ResourceEstimator().estimate(model) == pytest.approx(
        dict(flops=483.453664, params=5.151552))


def test_spos_mobilenet_search_config_one_epoch(tmp_path):
    cfg = Config.fromfile(
        osp.join(SPOS_DIR, 'spos_mobilenet_search_8xb128_in1k.py'))
    loop = cfg.train_cfg
    assert loop.constraints_range == dict(flops=(0., 465.))
    assert cfg.model.norm_training is True
    cfg = fake(cfg, tmp_path)
    loop.dataloader = cfg.val_dataloader
    loop.update(max_epochs=1, num_candidates=2, top_k=1, num_mutation=1,
                num_crossover=1)
    # 64x64 estimates: every candidate is far below the budget
    loop.estimator_cfg.input_shape = (1, 3, 64, 64)
    cfg.train_cfg = loop
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert len(runner.train_loop.records) == 2


def test_digits_demo_trains(tmp_path):
    path = osp.join(BIGNAS_DIR, 'demo', 'bignas_digits.py')
    cfg = Config.fromfile(path)
    cfg.work_dir = str(tmp_path)
    cfg.log_level = 'WARNING'
    cfg.train_dataloader.dataset.indices = 64
    cfg.val_dataloader.dataset.indices = 64
    cfg.test_dataloader.dataset.indices = 64
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    cfg.val_cfg.calibrate_sample_num = 64
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert 'val/min_subnet.accuracy/top1' in scalars


def test_digits_demo_with_two_processes(tmp_path):
    """All subnets of a step are one forward under mmengine's DDP wrapper
    (gloo, 2 CPU processes), with ``find_unused_parameters``."""
    work_dir = tmp_path / 'work'
    run_tool(
        [TOOLS / 'dist_train.sh',
         osp.join(BIGNAS_DIR, 'demo', 'bignas_digits.py'), 2,
         '--work-dir', work_dir, '--cfg-options',
         'env_cfg.dist_cfg.backend=gloo', 'train_cfg.max_epochs=1',
         'train_cfg.val_interval=1', 'train_dataloader.batch_size=16',
         'train_dataloader.dataset.indices=64',
         'val_dataloader.dataset.indices=32',
         'val_cfg.calibrate_sample_num=32',
         'default_hooks.checkpoint.interval=1'],
        env=tool_env(PORT=str(free_port())))
    (run_dir, ) = run_dirs(work_dir)
    log = read_log(run_dir)
    assert 'Distributed training: True' in log
    assert 'min_subnet.accuracy/top1' in log
    assert (work_dir / 'epoch_1.pth').is_file()
