# Copyright (c) OpenMMLab. All rights reserved.
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.engine import RazorVisualizationHook
from mmrazor.engine.hooks.visualization_hook import norm, reduce_channels

from .test_distill_loop_and_hook import run_cfg


@pytest.fixture(autouse=True)
def plain_config_text(monkeypatch):
    """The runner logs its config as yapf-formatted text, which takes
    seconds; plain text does (nothing here reads it)."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))


def hook_cfg(**kwargs):
    cfg = dict(
        _scope_='mmrazor',
        type='RazorVisualizationHook',
        enabled=True,
        data_idx=[0, 3],
        recorders=dict(
            stage=dict(type='ModuleOutputs',
                       source='architecture.backbone.layer1')),
        mappings=dict(layer1=dict(recorder='stage')),
        out_dir='vis')
    cfg.update(kwargs)
    return cfg


def test_draws_recorded_feature_maps_in_a_distill_run(tmp_path):
    cfg = run_cfg(tmp_path, max_epochs=1)
    # as the original's configs set it: the default visualization hook
    cfg.default_hooks.visualization = hook_cfg()
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks
                if isinstance(h, RazorVisualizationHook))
    names = sorted(osp.basename(p) for p in hook.written)
    assert names == sorted(
        f'{stage}_data_idx_{i}_layer1_0.jpg' for stage in ('before_run',
                                                          'epoch_1')
        for i in (0, 3))
    for path in hook.written:
        assert osp.dirname(path) == osp.join(str(tmp_path), runner.timestamp,
                                             'vis')
        image = cv2.imread(path)
        assert image.shape == (32, 32, 3)  # overlaid on the 32x32 input


def test_heat_map_values():
    hook = RazorVisualizationHook(
        recorders=dict(r=dict(type='ModuleOutputs', source='x')),
        mappings=dict(m=dict(recorder='r')), is_overlaid=False)
    feat = torch.zeros(1, 3, 8, 8)
    feat[0, 1, 2, 5] = 4.0  # one hot pixel in one channel
    drawn = hook.draw(feat, None)
    assert drawn.shape == (8, 8, 3) and drawn.dtype == np.uint8
    hot, cold = drawn[2, 5].astype(int), drawn[0, 0].astype(int)
    assert hot[0] > hot[2] and cold[2] > cold[0]  # jet: red hot, blue cold


def test_norm_and_reduction_by_hand():
    feat = torch.arange(2 * 2 * 1 * 3, dtype=torch.float).reshape(2, 2, 1, 3)
    out = norm(feat)
    channel0 = torch.tensor([0., 1., 2., 6., 7., 8.])
    expected = (channel0 - channel0.mean()) / (channel0.std() + 1e-6)
    torch.testing.assert_close(out[:, 0].reshape(-1), expected)
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-6)
    maps = torch.tensor([[[1., 5.]], [[3., 2.]]])
    torch.testing.assert_close(
        reduce_channels(maps, 'pixel_wise_max'), torch.tensor([[[3., 5.]]]))
    assert reduce_channels(maps, 'squeeze_mean') is maps


@pytest.mark.parametrize('kwargs, match', [
    (dict(visualization_cfg=dict(channel_reduction='mean')),
     'channel_reduction'),
    (dict(file_client_args=dict(backend='petrel')), 'file_client_args'),
    (dict(mappings=dict(m=dict(recorder='nope'))), 'nope'),
    (dict(interval=0), '`interval`'),
])
def test_bad_arguments(kwargs, match):
    cfg = hook_cfg(**kwargs)
    for key in ('_scope_', 'type'):
        cfg.pop(key)
    with pytest.raises((ValueError, KeyError), match=match):
        RazorVisualizationHook(**cfg)
