# Copyright (c) OpenMMLab. All rights reserved.
"""The DARTS configs (the original's names) build and run 2 iterations on
fake CIFAR-sized data; the search dumps a subnet that retrains."""
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.models.utils import count_mutables
from mmrazor.registry import MODELS
from mmrazor.testing import use_fake_data

from ..conftest import CONFIG_DIR

DARTS_DIR = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'darts')


# Small forwards run faster on one thread on a shared CPU.
pytestmark = pytest.mark.usefixtures('one_thread')


def fake(name: str, tmp_path, **kwargs) -> Config:
    cfg = use_fake_data(osp.join(DARTS_DIR, name), str(tmp_path),
                        num_samples=4, batch_size=2, image_size=32,
                        num_classes=10, **kwargs)
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    return cfg


@pytest.mark.parametrize('loop', [
    pytest.param('DartsIterBasedTrainLoop', marks=pytest.mark.slow),
    'DartsEpochBasedTrainLoop'
])
def test_search_config_runs_and_dumps_a_retrainable_subnet(tmp_path, loop):
    cfg = fake('darts_supernet_unroll_1xb96_cifar10.py', tmp_path)
    assert cfg.model.type == 'mmrazor.Darts' and cfg.model.unroll
    # a smaller space of the same kind keeps the test fast
    cfg.model.architecture.backbone.update(base_channels=4, num_layers=3,
                                           out_indices=(2, ))
    cfg.model.architecture.head.in_channels = 64
    if loop == 'DartsIterBasedTrainLoop':
        cfg.train_cfg = dict(type='mmrazor.' + loop, max_iters=2,
                             val_interval=2,
                             mutator_dataloader=cfg.train_dataloader)
        cfg.custom_hooks = [dict(type='mmrazor.DumpSubnetHook',
                                 interval=2, by_epoch=False)]
    else:
        cfg.model.unroll = False  # first order here, second order above
        cfg.train_cfg = dict(type='mmrazor.' + loop, max_epochs=1,
                             mutator_dataloader=cfg.train_dataloader)
        cfg.log_processor = dict(by_epoch=True)
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                            interval=1)
    runner = Runner.from_cfg(cfg)
    before = [p.detach().clone() for p in runner.model.mutator.parameters()]
    runner.train()
    after = list(runner.model.mutator.parameters())
    # 2 cell types x (14 edges + 4 nodes), every one moved
    assert len(after) == 36 and all(
        not torch.equal(a, b) for a, b in zip(before, after))
    unit = 'iter_2' if loop == 'DartsIterBasedTrainLoop' else 'epoch_1'
    path = osp.join(str(tmp_path), f'subnet_{unit}.yaml')
    with open(path) as f:
        subnet = yaml.safe_load(f)
    assert len(subnet) == 2 * (4 + 14) and \
        len(subnet['normal_n5']['chosen']) == 2
    # the dumped subnet retrains with the subnet config's builder
    sub_cfg = Config.fromfile(
        osp.join(DARTS_DIR, 'darts_subnet_1xb96_cifar10_2.0.py'))
    sub_cfg.supernet.backbone.update(base_channels=4, num_layers=3,
                                     out_indices=(2, ), aux_channels=8,
                                     aux_out_channels=16)
    sub_cfg.supernet.head.update(in_channels=64, aux_in_channels=16)
    sub_cfg.model.fix_subnet = path
    model = MODELS.build(sub_cfg.model)
    assert count_mutables(model) == 0


@pytest.mark.parametrize('warmup,epochs,moved', [(1, 1, False),
                                                  (1, 2, True)])
def test_epoch_loop_tells_the_warmup(tmp_path, warmup, epochs, moved):
    """arch_warmup_epochs counts the loop's epochs: a 1-epoch warm-up
    leaves alpha alone for the first epoch and not after."""
    cfg = fake('darts_supernet_unroll_1xb96_cifar10.py', tmp_path)
    cfg.model.architecture.backbone.update(base_channels=4, num_layers=3,
                                           out_indices=(2, ))
    cfg.model.architecture.head.in_channels = 64
    cfg.model.update(unroll=False, arch_warmup_epochs=warmup)
    cfg.train_cfg = dict(type='mmrazor.DartsEpochBasedTrainLoop',
                         max_epochs=epochs,
                         mutator_dataloader=cfg.train_dataloader)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.custom_hooks = []
    runner = Runner.from_cfg(cfg)
    before = [p.detach().clone() for p in runner.model.mutator.parameters()]
    runner.train()
    after = list(runner.model.mutator.parameters())
    assert any(not torch.equal(a, b)
               for a, b in zip(before, after)) == moved


@pytest.mark.parametrize('name', ['darts_subnet_1xb96_cifar10_2.0.py',
                                  'darts_subnet_1xb96_cifar10_2.0_mmrazor.py'])
def test_subnet_configs_train_two_iters(tmp_path, name):
    cfg = fake(name, tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    log = runner.message_hub.get_scalar('train/aux_head.loss')
    assert log is not None and torch.isfinite(torch.tensor(log.current()))
