# Copyright (c) OpenMMLab. All rights reserved.
"""Autoformer: one random subnet per step, or the shared sandwich step."""
import copy
import random

import pytest
import torch
from mmcls.structures import ClsDataSample
from mmengine.optim import OptimWrapper

from mmrazor.models import Autoformer, NasMutator
from mmrazor.registry import MODELS

SUPERNET = dict(
    _scope_='mmrazor',
    type='SearchableImageClassifier',
    data_preprocessor=dict(
        type='mmcls.ClsDataPreprocessor', mean=[128.] * 3, std=[64.] * 3),
    backbone=dict(
        type='AutoformerBackbone',
        arch_setting=dict(mlp_ratios=[2.0, 3.0], num_heads=[1, 2],
                          depth=[1, 2], embed_dims=[16, 24]),
        img_size=32,
        patch_size=8,
        head_dims=8),
    head=dict(type='DynamicLinearClsHead', num_classes=10, in_channels=24),
    connect_head=dict(connect_with_backbone='backbone.last_mutable'))



# Small forwards run faster on one thread on a shared CPU.
pytestmark = pytest.mark.usefixtures('one_thread')


def build(**kwargs) -> Autoformer:
    torch.manual_seed(0)
    algo = MODELS.build(
        dict(type='mmrazor.Autoformer', architecture=copy.deepcopy(SUPERNET),
             **kwargs))
    algo.init_weights()
    return algo.train()


def batch(n: int = 4) -> dict:
    gen = torch.Generator().manual_seed(0)
    return dict(
        inputs=[
            torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8,
                          generator=gen) for _ in range(n)
        ],
        data_samples=[ClsDataSample().set_gt_label(i) for i in range(n)])


def test_single_path_step_trains_the_sampled_subnet():
    algo = build()
    assert isinstance(algo.mutator, NasMutator)
    # 1 depth, 1 width, 1 head size and a heads + ratio pair per layer
    assert len(algo.mutator.search_groups) == 3 + 2 * 2
    optim = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.1))
    seen = set()
    random.seed(0)
    cls_token = algo.architecture.backbone.cls_token
    for _ in range(8):
        before = cls_token.detach().clone()
        losses = algo.train_step(batch(), optim)
        assert set(losses) == {'loss'}
        choices = algo.mutator.current_choices
        seen.add(choices['backbone.mutable_embed_dims'])
        if choices['backbone.mutable_embed_dims'] == 16:
            # the features the subnet does not use are not updated
            assert torch.equal(cls_token[..., 16:], before[..., 16:])
            assert not torch.equal(cls_token[..., :16], before[..., :16])
    assert seen == {16, 24}


def test_sandwich_step():
    algo = build(sandwich=True, num_random_samples=1)
    optim = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.1))
    losses = algo.train_step(batch(), optim)
    assert set(losses) == {'loss', 'max_subnet.loss',
                           'random_subnet_0.loss_kl', 'min_subnet.loss_kl'}
    # the largest subnet is set after the step
    assert algo.mutator.current_choices == algo.mutator.sample_choices('max')


def test_arguments():
    with pytest.raises(ValueError, match='num_random_samples'):
        build(num_random_samples=-1)
    assert Autoformer.__doc__.count('ICCV 2021') == 1
    assert build(mutator=None).distiller is None
