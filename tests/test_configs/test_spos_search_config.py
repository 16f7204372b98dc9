# Copyright (c) OpenMMLab. All rights reserved.
"""The ImageNet SPOS search config runs one search epoch on fake data."""
import os.path as osp

import yaml
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.testing import use_fake_data

from ..conftest import SPOS_DIR


def test_imagenet_search_config_one_epoch(tmp_path):
    path = osp.join(SPOS_DIR, 'spos_shufflenet_search_8xb128_in1k.py')
    cfg = Config.fromfile(path)
    loop = cfg.train_cfg
    assert loop.type == 'mmrazor.EvolutionSearchLoop'
    assert (loop.num_candidates, loop.top_k, loop.num_mutation,
            loop.num_crossover) == (50, 10, 25, 25)
    assert loop.constraints_range == dict(flops=(0., 330.))
    fake = use_fake_data(cfg, str(tmp_path), num_samples=4, batch_size=2)
    loop.dataloader = fake.val_dataloader
    loop.update(
        max_epochs=1,
        num_candidates=3,
        top_k=2,
        num_mutation=2,
        num_crossover=2,
        calibrate_sample_num=2)
    fake.train_cfg = loop
    fake.log_level = 'WARNING'
    runner = Runner.from_cfg(fake)
    runner.train()
    assert len(runner.train_loop.records) == 3
    for rec in runner.train_loop.records.values():
        assert rec['resources']['flops'] <= 330.
    with open(osp.join(tmp_path, 'best_fix_subnet.yaml')) as f:
        assert len(yaml.safe_load(f)) == 20
