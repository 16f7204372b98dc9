# Copyright (c) OpenMMLab. All rights reserved.
"""Shared fixtures: the SPOS search space, tiny supernets and scopes."""
import copy
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmrazor  # noqa: F401  (checks versions, installs the loader)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
SPOS_DIR = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'spos')
SPOS_SUBNET = osp.join(SPOS_DIR, 'SPOS_SUBNET.yaml')

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
torch.set_num_threads(2)


def spos_stage_mutable() -> dict:
    """The SPOS mutable config of one block, as the configs write it."""
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, '_base_', 'nas_backbones',
                 'spos_shufflenet_supernet.py'))
    return copy.deepcopy(cfg.arch_setting[0][2].to_dict())


@pytest.fixture
def stage_mutable() -> dict:
    """The mutable config of one SPOS block (4 candidates)."""
    return spos_stage_mutable()


@pytest.fixture
def spos_arch_setting() -> list:
    """The full SPOS ShuffleNetV2 arch setting (20 blocks)."""
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, '_base_', 'nas_backbones',
                 'spos_shufflenet_supernet.py'))
    return [list(row) for row in cfg.to_dict()['arch_setting']]


def tiny_arch_setting() -> list:
    """Two layers of two blocks: a small SPOS space for fast tests."""
    stage = spos_stage_mutable()
    return [[32, 2, stage], [64, 2, copy.deepcopy(stage)]]


def classifier_cfg(arch_setting: list, num_classes: int = 10,
                   widen_factor: float = 1.0) -> dict:
    """An mmcls ImageClassifier config with a SearchableShuffleNetV2."""
    return dict(
        _scope_='mmcls',
        type='ImageClassifier',
        data_preprocessor=dict(
            type='ClsDataPreprocessor',
            num_classes=num_classes,
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            to_rgb=True),
        backbone=dict(
            type='mmrazor.SearchableShuffleNetV2',
            arch_setting=arch_setting,
            out_indices=(len(arch_setting), ),
            widen_factor=widen_factor),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=1024,
            loss=dict(type='CrossEntropyLoss')))


@pytest.fixture
def tiny_supernet_cfg() -> dict:
    """A small SPOS supernet classifier config (10 classes)."""
    return classifier_cfg(tiny_arch_setting())


@pytest.fixture
def one_thread():
    """Run the test on one torch thread, then restore the thread count.

    Small forwards run faster on one thread on a shared CPU; a module opts
    in with ``pytestmark = pytest.mark.usefixtures('one_thread')``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def mmcls_scope():
    """Make 'mmcls' the default scope, as mmcls configs do, then restore."""
    with DefaultScope.overwrite_default_scope('mmcls'):
        yield


@pytest.fixture(autouse=True)
def restore_default_scope():
    """Runners make their config's scope the default one; undo that after
    each test so that tests do not depend on their order."""
    saved = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
