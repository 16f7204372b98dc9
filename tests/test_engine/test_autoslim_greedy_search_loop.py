# Copyright (c) OpenMMLab. All rights reserved.
"""AutoSlim's greedy search meets every FLOPs target, resumes, and never
overwrites a finished search."""
import copy
import json
import os.path as osp

import pytest
import yaml
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.models.task_modules import ResourceEstimator
from mmrazor.models.utils import export_static_model
from mmrazor.testing import use_fake_data

from ..conftest import CONFIG_DIR

SEARCH = osp.join(CONFIG_DIR, 'pruning', 'mmcls', 'autoslim', 'demo',
                  'autoslim_mbv2_search_digits.py')
# SimpleConvNet (16 and 32 channels) has 1.72 MFLOPs at 32x32: two units
# of four widths keep the search to a few dozen evaluations.
TARGETS = (1.4, 0.9, 0.5)


def _search_cfg(work_dir: str) -> Config:
    cfg = Config.fromfile(SEARCH)
    arch = cfg.model.architecture
    arch.backbone = dict(type='mmrazor.SimpleConvNet', channels=(16, 32))
    arch.head.in_channels = 32
    loop = copy.deepcopy(cfg.train_cfg)
    fake = use_fake_data(cfg, work_dir, num_samples=4, image_size=32,
                         batch_size=4, num_classes=10)
    loop.dataloader = fake.val_dataloader
    loop.update(target_flops=TARGETS, calibrate_sample_num=4)
    fake.train_cfg = loop
    fake.log_level = 'WARNING'
    return fake


def test_greedy_search_meets_each_target(tmp_path):
    cfg = _search_cfg(str(tmp_path))
    cfg.log_level = 'INFO'  # the summary table goes to the log
    runner = Runner.from_cfg(cfg)
    runner.train()
    loop = runner.train_loop
    assert sorted(loop.results) == sorted(str(t) for t in TARGETS)
    flops = [step['flops'] for step in loop.history]
    assert flops == sorted(flops, reverse=True)
    estimator = ResourceEstimator(input_shape=(1, 3, 32, 32))
    model = runner.model
    for target in TARGETS:
        path = osp.join(str(tmp_path), f'subnet_flops-{target:g}M.yaml')
        with open(path) as f:
            subnet = yaml.safe_load(f)
        assert len(subnet) == len(model.mutator.units)
        model.mutator.set_choices_from_config(subnet)
        static = export_static_model(model.architecture)
        assert estimator.estimate(static)['flops'] <= target
    with open(osp.join(str(tmp_path), 'greedy_search_state.json')) as f:
        assert len(json.load(f)['history']) == len(loop.history)

    # The summary: each target's subnet is the first step at or below it,
    # beside the four uniform widths (the full one is the start).
    with open(osp.join(str(tmp_path), 'greedy_search_summary.json')) as f:
        summary = json.load(f)
    walk = [loop.start] + loop.history
    for row in summary['targets']:
        first = next(p for p in walk if p['flops'] <= row['target'])
        assert (row['flops'], row['score']) == (first['flops'],
                                                first['score'])
        assert row['step'] == walk.index(first)
    assert [r['target'] for r in summary['targets']] == list(TARGETS)
    assert [r['width'] for r in summary['uniform']] == [
        '4/4', '3/4', '2/4', '1/4'
    ]
    assert summary['uniform'][0]['score'] == summary['start']['score']
    assert summary['uniform'][0]['flops'] == summary['start']['flops']
    flops = [r['flops'] for r in summary['uniform']]
    assert flops == sorted(flops, reverse=True)
    assert summary['scored'] == len(loop._scores) > summary['steps']
    with open(osp.join(str(tmp_path), 'greedy_search.png'), 'rb') as f:
        assert f.read(4) == b'\x89PNG'
    log = osp.join(runner.log_dir, f'{runner.timestamp}.log')
    with open(log) as f:
        text = f.read()
    assert 'Target 1.4 MFLOPs: reached ' in text
    assert 'AutoSlim greedy search: ' in text
    assert 'uniform width 1/4' in text and 'target 0.5 MFLOPs' in text

    with pytest.raises(FileExistsError, match='previous greedy search'):
        Runner.from_cfg(_search_cfg(str(tmp_path))).train()


def test_resume_continues_from_the_saved_step(tmp_path):
    cfg = _search_cfg(str(tmp_path))
    cfg.train_cfg.target_flops = (1.4, )
    Runner.from_cfg(cfg).train()
    with open(osp.join(str(tmp_path), 'greedy_search_state.json')) as f:
        done = len(json.load(f)['history'])
    cfg = _search_cfg(str(tmp_path))
    cfg.train_cfg.target_flops = (1.4, 0.9)
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    history = runner.train_loop.history
    assert len(history) > done
    assert history[done - 1]['flops'] <= 1.4 < history[0]['flops'] + 1
    assert history[-1]['flops'] <= 0.9


def test_bad_targets():
    cfg = _search_cfg('/tmp/unused')
    cfg.train_cfg.target_flops = (0, )
    with pytest.raises(ValueError, match='`target_flops` must be'):
        Runner.from_cfg(cfg).train()
    cfg.train_cfg.target_flops = (1.0, )
    cfg.train_cfg.max_channel_bins = 12
    with pytest.raises(ValueError, match='max_channel_bins=12'):
        Runner.from_cfg(cfg).train()
