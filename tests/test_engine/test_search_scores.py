# Copyright (c) OpenMMLab. All rights reserved.
"""Searches refuse NaN predictions and supernets whose subnets all predict
the same, instead of writing a best subnet chosen among equal scores."""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from .test_autoslim_greedy_search_loop import _search_cfg as greedy_cfg


class FillWeights(Hook):
    """Set every parameter to ``value`` before the search, as a supernet
    checkpoint full of NaN (or a dead, all-zero one) would."""

    def __init__(self, value):
        self.value = value

    def before_train(self, runner):
        with torch.no_grad():
            for param in runner.model.parameters():
                param.fill_(self.value)


def run(cfg, value):
    runner = Runner.from_cfg(cfg)
    runner.register_hook(FillWeights(value))
    runner.train()


def test_evolution_refuses_a_nan_supernet(make_search_cfg, tmp_path):
    cfg = make_search_cfg(tmp_path, calibrate_sample_num=0)
    with pytest.raises(FloatingPointError,
                       match=r'predicts NaN or infinite values '
                       r'\(pred_label\.score\).*load_from'):
        run(cfg, float('nan'))
    assert not osp.exists(osp.join(str(tmp_path), 'best_fix_subnet.yaml'))


def test_evolution_refuses_identical_predictions(make_search_cfg, tmp_path):
    cfg = make_search_cfg(tmp_path, calibrate_sample_num=0)
    with pytest.raises(ValueError,
                       match=r'EvolutionSearchLoop: all 6 subnets .* predict '
                       r'exactly the same values'):
        run(cfg, 0.)
    assert not osp.exists(osp.join(str(tmp_path), 'best_fix_subnet.yaml'))


def test_greedy_refuses_identical_predictions(tmp_path):
    cfg = greedy_cfg(str(tmp_path))
    cfg.train_cfg.calibrate_sample_num = 0
    with pytest.raises(ValueError,
                       match='AutoSlimGreedySearchLoop: all [0-9]+ subnets'):
        run(cfg, 0.)
