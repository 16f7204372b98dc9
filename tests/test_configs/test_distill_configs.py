# Copyright (c) OpenMMLab. All rights reserved.
"""Every config under configs/distill/ builds and trains 2 iterations.

The configs are the full-size ones users run (ImageNet ResNets, CIFAR
ResNets): only the data is replaced, by :func:`mmrazor.testing.use_fake_data`
(4 random images, batch 2, 64x64 for ImageNet, 32x32 for CIFAR and digits),
and nothing is downloaded (no teacher checkpoint, no pretrained weights).
"""
import glob
import math
import os.path as osp

import pytest
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

import mmrazor.models.algorithms as algorithms
import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.testing import use_fake_data

from ..conftest import CONFIG_DIR

DISTILL_DIR = osp.join(CONFIG_DIR, 'distill')
CONFIGS = sorted(
    osp.relpath(path, DISTILL_DIR) for path in glob.glob(
        osp.join(DISTILL_DIR, '**', '*.py'), recursive=True))

# Algorithms the configs use; a config whose algorithm is not in
# mmrazor.models.algorithms yet is skipped, not failed.
DISTILL_ALGORITHMS = ('SingleTeacherDistill', 'SelfDistill',
                      'OverhaulFeatureDistillation')


def missing_mmrazor_loop(cfg: Config) -> str:
    """The ``mmrazor.`` val loop type of ``cfg`` if it is not registered
    yet, else ''."""
    loop = cfg.get('val_cfg') or {}
    loop_type = loop.get('type', '') if isinstance(loop, dict) else ''
    if not loop_type.startswith('mmrazor.'):
        return ''
    import mmrazor.engine  # noqa: F401  (registers the loops)
    from mmrazor.registry import LOOPS
    return '' if LOOPS.get(loop_type[len('mmrazor.'):]) else loop_type


def data_settings(name: str) -> dict:
    """Fake-data size and classes of a config, from its dataset name."""
    if 'cifar100' in name:
        return dict(image_size=32, num_classes=100)
    if 'cifar10' in name or 'digits' in name:
        return dict(image_size=32, num_classes=10)
    return dict(image_size=64, num_classes=1000)


def no_downloads(node):
    """Turn ``pretrained=True`` off and drop ``Pretrained`` init configs,
    in place, everywhere in a config tree."""
    if isinstance(node, dict):
        if node.get('pretrained') is True:
            node['pretrained'] = False
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and \
                init_cfg.get('type') == 'Pretrained':
            node['init_cfg'] = None
        for value in node.values():
            no_downloads(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            no_downloads(value)


def test_configs_found():
    names = {osp.basename(c) for c in CONFIGS}
    for method in ('kd', 'dkd', 'wsld', 'dist', 'fitnets', 'at', 'ofd',
                   'rkd', 'abloss', 'byot'):
        assert any(n.startswith(method + '_') for n in names), method


@pytest.mark.parametrize('name', CONFIGS)
def test_distill_config_trains_two_iters(name, tmp_path):
    cfg = Config.fromfile(osp.join(DISTILL_DIR, name))
    model_type = cfg.model.get('type', '').split('.')[-1]
    if model_type in DISTILL_ALGORITHMS and \
            not hasattr(algorithms, model_type):
        pytest.skip(f'mmrazor.models.algorithms has no {model_type} yet')
    loop_type = missing_mmrazor_loop(cfg)
    if loop_type:
        pytest.skip(f'{loop_type} is not registered yet')

    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None
    no_downloads(cfg.model)
    settings = data_settings(name)
    if model_type in DISTILL_ALGORITHMS:
        # the build-time dry run (feature shape check) at the fake size
        size = settings['image_size']
        cfg.model.demo_input_shape = (1, 3, size, size)
    cfg.custom_imports = ConfigDict(
        imports=['mmrazor.testing'], allow_failed_imports=False)
    cfg = use_fake_data(
        cfg,
        str(tmp_path),
        num_samples=4,
        # RKD's relations of 2 samples are the same for any features (its
        # losses would be 0): give it 4
        batch_size=4 if '/rkd/' in name else 2,
        max_iters=2,
        **settings)
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)

    runner = Runner.from_cfg(cfg)
    runner.train()

    assert runner.iter == 2
    scalars = runner.message_hub.log_scalars
    loss = scalars['train/loss'].current()
    assert math.isfinite(loss), f'{name}: loss {loss}'
    # every mapped distillation loss of the config was computed and is
    # finite (an unmapped one, e.g. factor transfer's stage-1 loss in its
    # stage-2 config, is never computed)
    distiller = cfg.model.get('distiller', {})
    for loss_name in distiller.get('loss_forward_mappings', {}):
        keys = [k for k in scalars if k.startswith('train/') and
                k.endswith(loss_name)]
        assert keys, f'{name}: {loss_name} not logged; got {list(scalars)}'
        for key in keys:
            assert math.isfinite(scalars[key].current()), key
    assert osp.exists(osp.join(str(tmp_path), 'iter_2.pth'))
