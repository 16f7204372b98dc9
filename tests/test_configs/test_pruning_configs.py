# Copyright (c) OpenMMLab. All rights reserved.
"""Every config under configs/pruning/mmcls/{l1-norm,group_fisher,dcff,demo}
builds and trains 2 iterations on fake data.

The configs are the full-size ones (ImageNet ResNet-34/50, MobileNetV2):
only the data is replaced by :func:`mmrazor.testing.use_fake_data` (64x64
images, 32x32 for digits), the tracing and FLOPs input shapes shrink to the
same size, and nothing is downloaded (``Pretrained`` initialisations are
dropped).
"""
import glob
import json
import math
import os.path as osp

import pytest
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.testing import use_fake_data

from ..conftest import CONFIG_DIR

PRUNING_DIR = osp.join(CONFIG_DIR, 'pruning', 'mmcls')
FOLDERS = ('l1-norm', 'group_fisher', 'dcff', 'demo')
CONFIGS = sorted(
    osp.relpath(path, PRUNING_DIR) for folder in FOLDERS
    for path in glob.glob(
        osp.join(PRUNING_DIR, folder, '**', '*.py'), recursive=True))
SHAPE_KEYS = ('demo_input', 'input_shape')


def shrink(node, size: int):
    """Drop ``Pretrained`` inits and set every tracing / FLOPs input shape
    to ``size``, in place, everywhere in a config tree."""
    if isinstance(node, dict):
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and \
                init_cfg.get('type') == 'Pretrained':
            node['init_cfg'] = None
        for key in SHAPE_KEYS:
            if key in node:
                node[key] = (1, 3, size, size)
        for value in node.values():
            shrink(value, size)
    elif isinstance(node, (list, tuple)):
        for value in node:
            shrink(value, size)


def test_configs_found():
    names = {osp.basename(c) for c in CONFIGS}
    for expected in ('l1-norm_resnet34_8xb32_in1k_a.py',
                     'l1-norm_resnet34_8xb32_in1k_a_deploy.py',
                     'group_fisher_act_prune_resnet50_8xb32_in1k.py',
                     'group_fisher_flops_finetune_mobilenet-v2_8xb32_in1k.py',
                     'group_fisher_act_deploy_mobilenet-v2_8xb32_in1k.py',
                     'dcff_resnet_8xb32_in1k.py',
                     'dcff_compact_resnet_8xb32_in1k.py'):
        assert expected in names
    assert any(c.startswith('demo/') for c in CONFIGS)


@pytest.fixture
def plain_config_text(monkeypatch):
    """The runner logs and dumps its config as yapf-formatted text, which
    takes seconds for the long unit dicts of these configs; plain text
    does (nothing reads it back here)."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))


@pytest.mark.parametrize('name', CONFIGS)
def test_pruning_config_trains_two_iters(name, tmp_path, plain_config_text):
    cfg = Config.fromfile(osp.join(PRUNING_DIR, name))
    digits = name.startswith('demo/')
    size = 32 if digits else 64
    shrink(cfg.model, size)
    shrink(cfg.get('val_cfg', {}), size)
    cfg.custom_imports = ConfigDict(
        imports=['mmrazor.testing'], allow_failed_imports=False)
    cfg = use_fake_data(
        cfg,
        str(tmp_path),
        num_samples=4,
        batch_size=2,
        max_iters=2,
        image_size=size,
        num_classes=10 if digits else 1000)
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    # full-size checkpoints (with optimizer state) take longer to write than
    # the two iterations to run; the export tool test covers checkpoints
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    runner = Runner.from_cfg(cfg)
    runner.train()

    assert runner.iter == 2
    loss = runner.message_hub.log_scalars['train/loss'].current()
    assert math.isfinite(loss), f'{name}: loss {loss}'
    model = runner.model
    algorithm = cfg.model.type
    if algorithm in ('ItePruneAlgorithm', 'DCFF'):
        # pruned before the first iteration: the target counts exactly
        units = {u.name: u for u in model.mutator.units}
        for unit_name, ratio in cfg.model.target_pruning_ratio.items():
            unit = units[unit_name]
            assert unit.activated_channels == max(
                1, round(unit.num_channels * ratio)), unit_name
    if cfg.val_cfg.get('type') == 'mmrazor.ItePruneValLoop':
        assert math.isfinite(
            runner.message_hub.get_scalar('val/flops').current())
        with open(osp.join(str(tmp_path), 'fix_subnet.json')) as f:
            assert json.load(f) == model.pruning_structure
    if algorithm == 'GroupFisherDeploySubModel':
        assert not any(
            hasattr(m, 'mutable_attrs') for m in model.modules())
        fix_subnet = cfg.model.fix_subnet
        first = next(iter(fix_subnet))
        if isinstance(fix_subnet[first], int):  # a published structure
            layer = first.split('_(')[0]
            assert model.get_submodule(layer).out_channels == \
                fix_subnet[first]
