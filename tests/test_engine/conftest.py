# Copyright (c) OpenMMLab. All rights reserved.
"""A tiny SPOS search run: supernet, fake data, evolution search loop."""
import copy

import pytest
from mmengine.config import Config

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)

from ..conftest import classifier_cfg, tiny_arch_setting


def fake_loader(num_samples=8, shuffle=False):
    return dict(
        batch_size=4,
        num_workers=0,
        dataset=dict(
            type='mmrazor.FakeClsDataset',
            num_samples=num_samples,
            image_size=32,
            num_classes=10),
        sampler=dict(type='DefaultSampler', shuffle=shuffle))


def search_cfg(work_dir, **loop_kwargs) -> Config:
    """A runner config whose train loop searches a tiny SPOS supernet."""
    loop = dict(
        type='mmrazor.EvolutionSearchLoop',
        dataloader=fake_loader(),
        evaluator=dict(type='Accuracy', topk=(1, )),
        max_epochs=3,
        num_candidates=6,
        top_k=3,
        num_mutation=3,
        num_crossover=3,
        mutate_prob=0.3,
        calibrate_sample_num=8,
        constraints_range=dict(flops=(0., 4.5)),
        estimator_cfg=dict(
            type='mmrazor.ResourceEstimator', input_shape=(1, 3, 32, 32)),
        score_key='accuracy/top1')
    loop.update(loop_kwargs)
    return Config(
        dict(
            default_scope='mmcls',
            custom_imports=dict(
                imports=['mmrazor.testing'], allow_failed_imports=False),
            model=dict(
                type='mmrazor.SPOS',
                architecture=classifier_cfg(tiny_arch_setting())),
            work_dir=str(work_dir),
            train_dataloader=fake_loader(16, shuffle=True),
            train_cfg=loop,
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
            default_hooks=dict(
                checkpoint=dict(type='CheckpointHook', interval=-1),
                logger=dict(type='LoggerHook', interval=1)),
            randomness=dict(seed=7),
            log_level='WARNING'))


@pytest.fixture
def make_search_cfg():
    return lambda work_dir, **kw: copy.deepcopy(search_cfg(work_dir, **kw))
