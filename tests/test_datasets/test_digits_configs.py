# Copyright (c) OpenMMLab. All rights reserved.
"""The digits data config and the SPOS digits demo configs build and train."""
import glob
import math
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.datasets import DigitsDataset
from mmrazor.models.architectures.ops import ShuffleBlock, ShuffleXception
from mmrazor.models.mutables import BaseMutable
from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS

from ..conftest import CONFIG_DIR

DEMO_DIR = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'spos', 'demo')
SUPERNET = osp.join(DEMO_DIR, 'spos_shufflenet_supernet_digits.py')
SUBNET = osp.join(DEMO_DIR, 'spos_shufflenet_subnet_digits.py')


def test_data_config_matches_dataset():
    cfg = Config.fromfile(osp.join(CONFIG_DIR, '_base_', 'datasets',
                                   'digits.py'))
    assert cfg.preprocess_cfg.mean == list(DigitsDataset.MEAN)
    assert cfg.preprocess_cfg.std == list(DigitsDataset.STD)
    assert cfg.preprocess_cfg.to_rgb is False
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].batch_size == 64
        assert cfg[key].dataset.image_size == cfg.image_size == 32
    assert cfg.val_evaluator == dict(type='mmcls.Accuracy', topk=(1, ))


def test_schedule_follows_max_epochs():
    cfg = Config.fromfile(SUPERNET)
    warmup, cosine = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 1)
    assert cosine.begin == warmup.end
    assert cosine.end == cfg.train_cfg.max_epochs == cosine.T_max + 1


def _quick_cfg(path, tmp_path):
    """The config, trained for one epoch of 2 iterations on 128 images."""
    cfg = Config.fromfile(path)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'{osp.basename(path)}_{tmp_path.name}'
    cfg.train_dataloader.dataset.indices = 128
    cfg.val_dataloader.dataset.indices = 64
    cfg.test_dataloader.dataset.indices = 64
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    return cfg


@pytest.mark.parametrize('path', [SUPERNET, SUBNET])
def test_demo_config_trains(path, tmp_path):
    runner = Runner.from_cfg(_quick_cfg(path, tmp_path))
    runner.train()
    assert runner.iter == 2
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
    assert osp.exists(osp.join(tmp_path, 'epoch_1.pth'))
    if path == SUPERNET:
        # Two random paths are validated, after BN recalibration.
        for i in range(2):
            assert 0 <= runner.message_hub.get_scalar(
                f'val/random_subnet_{i}.accuracy/top1').current() <= 100
        return
    assert 0 <= runner.message_hub.get_scalar(
        'val/accuracy/top1').current() <= 100
    # The subnet keeps its best checkpoint too.
    assert glob.glob(osp.join(tmp_path, 'best_accuracy_top1_epoch_1.pth'))


def test_supernet_searches_one_choice_per_layer(mmcls_scope):
    mutator = MODELS.build(Config.fromfile(SUPERNET).model).mutator
    assert isinstance(mutator, NasMutator)
    assert sorted(mutator.search_groups) == ['layer0', 'layer1', 'layer2']
    assert [len(g) for g in mutator.search_groups.values()] == [2, 2, 4]
    assert mutator.search_space_size == 4**3


def test_subnet_is_the_default_yaml(mmcls_scope):
    model = MODELS.build(Config.fromfile(SUBNET).model)
    blocks = [
        m for m in model.modules()
        if isinstance(m, (ShuffleBlock, ShuffleXception))
    ]
    assert [(type(b), b.kernel_size) for b in blocks] == [(ShuffleBlock, 3)
                                                          ] * 8
    assert not any(
        isinstance(m, BaseMutable) and not m.is_fixed
        for m in model.modules())
