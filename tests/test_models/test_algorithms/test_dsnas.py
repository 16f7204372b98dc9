# Copyright (c) OpenMMLab. All rights reserved.
"""DSNAS: the architecture gradient estimator, early and final fixing, and
the original's configs on fake data."""
import copy
import os.path as osp

import pytest
import torch
from mmcls.structures import ClsDataSample
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401
from mmrazor.models.utils import count_mutables
from mmrazor.registry import MODELS
from mmrazor.testing import use_fake_data
from mmrazor.testing.darts import tiny_darts_classifier
from tests.conftest import CONFIG_DIR

DSNAS_DIR = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'dsnas')


def _dsnas(fix_threshold=1.0, **kwargs):
    torch.manual_seed(0)
    arch = tiny_darts_classifier(
        num_layers=1, num_nodes=2,
        ops=('skip_connect', 'avg_pool_3x3', 'sep_conv_3x3'),
        mutable_type='mmrazor.OneHotMutableOP',
        route_cfg=dict(type='mmrazor.DiffChoiceRoute'))
    arch['backbone']['mutable_cfg']['fix_threshold'] = fix_threshold
    return MODELS.build(dict(type='mmrazor.DSNAS', architecture=arch,
                             pretrain_epochs=0, finetune_epochs=2, **kwargs))


def _optim(algo):
    return OptimWrapperDict(
        architecture=OptimWrapper(torch.optim.SGD(
            algo.architecture.parameters(), lr=0.1)),
        mutator=OptimWrapper(torch.optim.SGD(algo.mutator.parameters(),
                                             lr=1.0)))


def _data(n=4):
    g = torch.Generator().manual_seed(0)
    return dict(inputs=torch.randint(0, 255, (n, 3, 8, 8), generator=g,
                                     dtype=torch.uint8),
                data_samples=[ClsDataSample().set_gt_label(i % 4)
                              for i in range(n)])


def _set_epoch(epoch):
    MessageHub.get_current_instance().update_info('epoch', epoch)


def test_architecture_gradient_is_the_dsnas_estimator():
    algo = _dsnas()
    algo.train()
    batch = algo.data_preprocessor(_data(), True)
    losses = algo(batch['inputs'], batch['data_samples'], mode='loss')
    sum(losses.values()).backward()
    credits = {}
    for m in algo.modules():
        if getattr(m, 'arch_weights', None) is not None:
            credits[id(m)] = m.arch_weights.grad[m.sampled_index].item()
    grads, mean_credit = algo.arch_grads()
    assert len(credits) == len(grads) == 2 + 3  # 5 edges, one cell
    for grad, (key, group) in zip(
            grads, [(k, g) for k, g in algo.mutator.search_groups.items()
                    if hasattr(g[0], 'sampled_index')]):
        p = torch.softmax(algo.mutator.arch_param(key).detach(), -1)
        expected = torch.zeros_like(p)
        for m in group:
            onehot = torch.zeros_like(p)
            onehot[m.sampled_index] = 1
            expected += credits[id(m)] * (onehot - p)
        assert torch.allclose(grad, expected, atol=1e-7)
    assert abs(mean_credit.item() - sum(credits.values()) / 5) < 1e-6
    _set_epoch(0)
    logs = algo.train_step(_data(), _optim(algo))
    assert {'supernet.loss', 'mutator.credit'} <= set(logs)


def test_weights_learn_from_the_loss_only():
    algo = _dsnas()
    ref = copy.deepcopy(algo)
    _set_epoch(0)
    algo.train_step(_data(), _optim(algo))
    for p in algo.mutator.parameters():
        assert p.grad is None
    # the same sample in the reference: replay the indices
    torch.manual_seed(0)
    ref_optim = _optim(ref)
    for m, r in zip(algo.modules(), ref.modules()):
        if hasattr(m, 'sampled_index') and m.sampled_index is not None:
            r.set_arch_param(None)
            r.current_choice = m.choices[m.sampled_index]
    batch = ref.data_preprocessor(_data(), True)
    losses = ref.architecture(batch['inputs'], batch['data_samples'],
                              mode='loss')
    ref_optim['architecture'].update_params(sum(losses.values()))
    for w, r in zip(algo.architecture.parameters(),
                    ref.architecture.parameters()):
        assert torch.allclose(w, r, atol=1e-6)


def test_early_and_final_fixing_pick_the_argmax():
    algo = _dsnas(fix_threshold=0.3)
    for p in algo.mutator.parameters():
        p.data.copy_(torch.log(torch.tensor([1., 8., 2.])))
    _set_epoch(0)
    algo.train_step(_data(), _optim(algo))
    fixed = [m for m in algo.modules() if getattr(m, 'is_fixed', False)
             and hasattr(m, 'sampled_index')]
    assert fixed and all(m.choices == ['avg_pool_3x3'] for m in fixed)
    algo = _dsnas()
    for p in algo.mutator.parameters():
        p.data.copy_(torch.tensor([0., 0., 1.]))
    _set_epoch(2)  # finetune_epochs: fix everything, keep training
    algo.train_step(_data(), _optim(algo))
    assert not algo.is_supernet
    subnet = algo.export_subnet()
    ops = {v['chosen'] for v in subnet.values()
           if isinstance(v['chosen'], str)}  # (routes give edge lists)
    assert ops == {'sep_conv_3x3'}


def test_bad_epochs_say_what_is_needed():
    with pytest.raises(ValueError, match='pretrain_epochs < finetune'):
        MODELS.build(
            dict(type='mmrazor.DSNAS',
                 architecture=tiny_darts_classifier(
                     mutable_type='mmrazor.OneHotMutableOP'),
                 pretrain_epochs=3, finetune_epochs=3))


def _fake(name, tmp_path):
    cfg = use_fake_data(osp.join(DSNAS_DIR, name), str(tmp_path),
                        num_samples=4, batch_size=2, image_size=32)
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    return cfg


def test_supernet_config_trains_two_iters(tmp_path):
    cfg = _fake('dsnas_supernet_8xb128_in1k.py', tmp_path)
    cfg.model.pretrain_epochs = 0
    cfg.param_scheduler = dict(architecture=[], mutator=[])
    runner = Runner.from_cfg(cfg)
    before = [p.detach().clone() for p in runner.model.mutator.parameters()]
    runner.train()
    assert len(before) == 20
    assert any(not torch.equal(a, b) for a, b in zip(
        before, runner.model.mutator.parameters()))


def test_subnet_config_builds_the_paper_subnet():
    cfg = Config.fromfile(osp.join(DSNAS_DIR, 'dsnas_subnet_8xb128_in1k.py'))
    model = MODELS.build(cfg.model)
    assert count_mutables(model) == 0
    assert sum(p.numel() for p in model.parameters()) > 3e6
