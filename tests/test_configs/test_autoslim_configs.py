# Copyright (c) OpenMMLab. All rights reserved.
"""The ImageNet AutoSlim configs build and run on fake data."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.models.task_modules import ResourceEstimator
from mmrazor.models.utils import export_static_model
from mmrazor.registry import MODELS
from mmrazor.testing import use_fake_data

from ..conftest import CONFIG_DIR

AUTOSLIM = osp.join(CONFIG_DIR, 'pruning', 'mmcls', 'autoslim')


def _runner(name: str, work_dir: str) -> Runner:
    cfg = use_fake_data(osp.join(AUTOSLIM, name), work_dir, num_samples=2,
                        image_size=32, batch_size=2)
    cfg.val_cfg = dict(type='ValLoop')
    cfg.log_level = 'WARNING'
    return Runner.from_cfg(cfg)


def test_supernet_trains_two_iterations(tmp_path):
    runner = _runner('autoslim_mbv2_1.5x_supernet_8xb256_in1k.py',
                     str(tmp_path))
    runner.train()
    mutator = runner.model.mutator
    assert len(mutator.units) == 25
    assert mutator.choices['backbone.conv2.conv_(0, 1920)_1920'] == [
        i / 12 for i in range(2, 13)
    ]


def test_search_config_wiring(tmp_path):
    cfg = Config.fromfile(
        osp.join(AUTOSLIM, 'autoslim_mbv2_1.5x_search_8xb256_in1k.py'))
    loop = cfg.train_cfg
    assert loop.type == 'mmrazor.AutoSlimGreedySearchLoop'
    assert tuple(loop.target_flops) == (500., 300., 200.)
    fake = use_fake_data(cfg, str(tmp_path), num_samples=2, image_size=64)
    loop.dataloader = fake.val_dataloader
    # above the full network's 702.9 MFLOPs: met before any step
    loop.update(target_flops=(800., ), calibrate_sample_num=0)
    fake.train_cfg = loop
    fake.log_level = 'WARNING'
    runner = Runner.from_cfg(fake)
    runner.train()
    assert runner.train_loop.history == []
    assert osp.isfile(osp.join(str(tmp_path), 'subnet_flops-800M.yaml'))


# FLOPs and params at 224x224 of the original MMRazor's published AutoSlim
# channel files (MBV2_530M.yaml, ..., per-layer layout) loaded here
ORIGINAL_SUBNETS = {
    530: (529_261_920, 6_495_992),
    320: (320_247_520, 5_767_288),
    220: (221_412_560, 4_125_104),
}


@pytest.mark.parametrize('flops', [530, 320, 220])
def test_subnet_configs_count_the_published_flops(flops):
    name = f'autoslim_mbv2_1.5x_subnet_8xb256_in1k_flops-{flops}M.py'
    cfg = Config.fromfile(osp.join(AUTOSLIM, name))
    assert osp.basename(cfg.model.channel_cfg_paths) == f'MBV2_{flops}M.yaml'
    model = MODELS.build(cfg.model)
    static = export_static_model(model.architecture)
    estimator = ResourceEstimator(input_shape=(1, 3, 224, 224),
                                  units=dict(flops=None, params=None))
    counted = estimator.estimate(static)
    print(f'MBV2_{flops}M.yaml: {counted["flops"] / 1e6:.2f} MFLOPs '
          f'(published {flops}), {counted["params"] / 1e6:.3f} M params')
    assert (counted['flops'], counted['params']) == ORIGINAL_SUBNETS[flops]
    assert abs(counted['flops'] / 1e6 / flops - 1) < 0.01


def test_layer_channel_files_refuse_disagreeing_layers():
    from mmrazor.models.algorithms.pruning._layer_channels import (
        is_layer_channel_file,
        layer_channels_to_units,
    )
    units = {'u': dict(channels=dict(
        output_related=[dict(name='conv', start=0, end=8)],
        input_related=[dict(name='next', start=0, end=8)]))}
    subnet = {
        'conv.mutable_out_channels': dict(current_choice=4,
                                          origin_channels=8),
        'next.mutable_in_channels': dict(current_choice=4,
                                         origin_channels=8),
    }
    assert is_layer_channel_file(subnet)
    assert layer_channels_to_units(subnet, units) == {'u': 4}
    subnet['next.mutable_in_channels']['current_choice'] = 6
    with pytest.raises(ValueError, match='different widths'):
        layer_channels_to_units(subnet, units)
    with pytest.raises(ValueError, match='no layer of unit'):
        layer_channels_to_units({}, units)


def test_slimmable_subnet_config_trains_all_widths(tmp_path):
    runner = _runner('autoslim_mbv2_1.5x_slimmable_subnet_8xb256_in1k.py',
                     str(tmp_path))
    assert len(runner.model.subnets) == 3
    runner.train()
