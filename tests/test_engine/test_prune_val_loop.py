# Copyright (c) OpenMMLab. All rights reserved.
"""ItePruneValLoop: metrics, resources and the exported structure."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.models.task_modules.estimators import ResourceEstimator
from mmrazor.models.utils import (
    GroupFisherDeploySubModel,
    export_pruned_model,
)

from ..test_models.test_algorithms._prune_toy import (
    CONV1,
    CONV2,
    PARSE_CFG,
    tiny_classifier,
)

SHAPE = (1, 3, 16, 16)


def _cfg(work_dir, **loop_args) -> Config:
    loader = dict(
        batch_size=4,
        num_workers=0,
        dataset=dict(
            type='mmrazor.FakeClsDataset',
            num_samples=8,
            image_size=16,
            num_classes=4),
        sampler=dict(type='DefaultSampler', shuffle=False))
    return Config(
        dict(
            default_scope='mmcls',
            custom_imports=dict(
                imports=['mmrazor.testing'], allow_failed_imports=False),
            model=dict(
                type='mmrazor.ItePruneAlgorithm',
                architecture=tiny_classifier(),
                mutator_cfg=dict(
                    type='ChannelMutator',
                    channel_unit_cfg=dict(
                        type='L1MutableChannelUnit',
                        default_args=dict(choice_mode='ratio')),
                    parse_cfg=PARSE_CFG),
                target_pruning_ratio={CONV1: 0.5, CONV2: 0.75}),
            work_dir=str(work_dir),
            val_dataloader=loader,
            val_evaluator=dict(type='Accuracy', topk=(1, )),
            val_cfg=dict(
                type='mmrazor.ItePruneValLoop',
                estimator_cfg=dict(input_shape=SHAPE),
                **loop_args),
            default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
            log_level='WARNING'))


def test_reports_resources_and_saves_the_pruned_model(tmp_path):
    runner = Runner.from_cfg(_cfg(tmp_path))
    algo = runner.model
    algo.prune_step(1)
    metrics = runner.val()
    assert 'accuracy/top1' in metrics
    static, structure = export_pruned_model(algo)
    expected = ResourceEstimator(input_shape=SHAPE).estimate(static)
    assert metrics['flops'] == pytest.approx(expected['flops'])
    assert metrics['params'] == pytest.approx(expected['params'])
    full = ResourceEstimator(input_shape=SHAPE).estimate(
        GroupFisherDeploySubModel(tiny_classifier(), parse_cfg=PARSE_CFG))
    assert metrics['flops'] < full['flops']
    with open(osp.join(tmp_path, 'fix_subnet.json')) as f:
        assert json.load(f) == structure == {CONV1: 4, CONV2: 12}
    state = torch.load(
        osp.join(tmp_path, 'fix_subnet_weight.pth'), weights_only=True)
    deploy = GroupFisherDeploySubModel(
        tiny_classifier(), fix_subnet=structure, parse_cfg=PARSE_CFG).eval()
    deploy.load_state_dict(state)
    algo.eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        assert (deploy(x, mode='tensor') -
                algo(x, mode='tensor')).abs().max() <= 1e-5


def test_without_saving(tmp_path):
    runner = Runner.from_cfg(_cfg(tmp_path, save_subnet=False))
    metrics = runner.val()
    assert metrics['flops'] > 0
    assert not osp.exists(osp.join(tmp_path, 'fix_subnet.json'))
