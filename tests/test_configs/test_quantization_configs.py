# Copyright (c) OpenMMLab. All rights reserved.
"""Every config under configs/quantization/ builds and runs on fake data.

PTQ configs calibrate on 2 batches, save ``model_ptq.pth`` and evaluate;
QAT and LSQ configs train 1 epoch of 2 iterations with their own loops and
validate with ``QATValLoop``. Only the data (4 random 32x32 images), the
float checkpoint (none: no download) and the exported input size (32x32)
change; ResNet-50 and MobileNetV2 are marked slow.
"""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

import mmrazor.testing  # noqa: F401,E402  (registers FakeClsDataset)

from ..conftest import CONFIG_DIR  # noqa: E402

QUANT_DIR = osp.join(CONFIG_DIR, 'quantization')
CONFIGS = sorted(
    osp.relpath(p, QUANT_DIR)
    for p in glob.glob(osp.join(QUANT_DIR, '*', '**', '*.py'), recursive=True)
    # the digits demo's configs run on digits in tests/test_tools/
    # test_demo_quant.py
    if '/deploy_cfgs/' not in p and '/demo/' not in p)
SIZE = 32


def loader(shuffle=False):
    return dict(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        dataset=dict(
            type='mmrazor.FakeClsDataset',
            num_samples=4,
            image_size=SIZE,
            num_classes=1000),
        sampler=dict(type='DefaultSampler', shuffle=shuffle))


def tiny_run(name: str, work_dir: str) -> Config:
    """The config ``name`` on fake data at 32x32, without downloads."""
    cfg = Config.fromfile(osp.join(QUANT_DIR, name))
    cfg.model.float_checkpoint = None
    backbone = cfg.model.architecture.backbone
    if 'ResNet' in backbone.type:
        # random init: zero BN weights would make QAT's folding divide by 0
        backbone.zero_init_residual = False
    cfg.model.input_shapes = (1, 3, SIZE, SIZE)
    for split in ('train', 'val', 'test'):
        if cfg.get(f'{split}_dataloader') is not None:
            cfg[f'{split}_dataloader'] = loader(split == 'train')
    if cfg.test_cfg.get('type', '').endswith('PTQLoop'):
        cfg.test_cfg.calibrate_dataloader = loader()
        cfg.test_cfg.calibrate_steps = 2
    if cfg.get('train_cfg') and 'max_epochs' in cfg.train_cfg:
        cfg.train_cfg.max_epochs = 1
    cfg.model_wrapper_cfg = None
    cfg.custom_imports = ConfigDict(
        imports=['mmrazor.testing'], allow_failed_imports=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    cfg.work_dir = work_dir
    return cfg


def params(names):
    heavy = ('resnet50', 'mbv2')
    return [
        pytest.param(n, marks=pytest.mark.slow)
        if any(h in n for h in heavy) else n for n in names
    ]


def test_configs_found():
    names = {osp.basename(c) for c in CONFIGS}
    for name in ('ptq_openvino_resnet18_8xb32_in1k_calib32xb32.py',
                 'ptq_tensorrt_resnet50_8xb32_in1k_calib32xb32.py',
                 'ptq_openvino_mbv2_8xb32_in1k_calib32xb32.py',
                 'qat_openvino_resnet18_10e_8xb32_in1k.py',
                 'lsq_openvino_resnet18_8xb32_10e_in1k.py'):
        assert name in names


@pytest.mark.parametrize(
    'name', params([c for c in CONFIGS if c.startswith('ptq/')]))
def test_ptq_config_calibrates_and_evaluates(name, tmp_path):
    runner = Runner.from_cfg(tiny_run(name, str(tmp_path)))
    metrics = runner.test()
    assert 'accuracy/top1' in metrics
    model = runner.model
    assert model.calibrated.item() == 1
    saved = osp.join(str(tmp_path), 'model_ptq.pth')
    state = torch.load(saved, weights_only=True)['state_dict']
    assert any(k.endswith('activation_post_process.min_val') for k in state)


@pytest.mark.parametrize(
    'name', params([c for c in CONFIGS if c.startswith('qat/')]))
def test_qat_config_trains(name, tmp_path):
    runner = Runner.from_cfg(tiny_run(name, str(tmp_path)))
    runner.train()
    assert runner.iter == 2
    loss = runner.message_hub.log_scalars['train/loss'].current()
    assert math.isfinite(loss)
    scalars = runner.message_hub.log_scalars
    assert 'val/qat.accuracy/top1' in scalars
    assert 'val/original.accuracy/top1' in scalars
