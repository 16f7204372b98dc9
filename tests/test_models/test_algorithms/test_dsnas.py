# Copyright (c) OpenMMLab. All rights reserved.
"""DSNAS: the architecture gradient estimator, early and final fixing, and
the original's configs on fake data."""
import copy
import itertools
import os.path as osp

import pytest
import torch
from mmcls.structures import ClsDataSample
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401
from mmrazor.models.algorithms.nas._flops_penalty import plain_choices
from mmrazor.models.utils import count_mutables
from mmrazor.registry import MODELS, TASK_UTILS
from mmrazor.testing import use_fake_data
from mmrazor.testing.darts import tiny_darts_classifier
from tests.conftest import CONFIG_DIR, classifier_cfg

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


def _data(n=4, size=8):
    g = torch.Generator().manual_seed(0)
    return dict(inputs=torch.randint(0, 255, (n, 3, size, size), generator=g,
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


# -- the FLOPs penalty ------------------------------------------------------
def _dsnas_shufflenet(**kwargs):
    """DSNAS on 2 one-hot ShuffleNetV2 blocks (4 choices each) at 32x32."""
    cfg = Config.fromfile(osp.join(CONFIG_DIR, '_base_', 'nas_backbones',
                                   'dsnas_shufflenet_supernet.py'))
    stage = cfg.arch_setting[0][2].to_dict()
    torch.manual_seed(0)
    arch = classifier_cfg([[16, 1, stage], [32, 1, copy.deepcopy(stage)]],
                          num_classes=4)
    return MODELS.build(dict(
        type='mmrazor.DSNAS', architecture=arch, pretrain_epochs=0,
        finetune_epochs=2,
        estimator_cfg=dict(input_shape=(1, 3, 32, 32)), **kwargs))


def _brute_force_expected_flops(algo):
    """sum over all 16 subnets of P(subnet) * FLOPs(subnet), every FLOPs a
    full ResourceEstimator count of the model at that subnet; alphas in the
    graph."""
    mutator = algo.nas_mutator
    keys = list(mutator.search_groups)
    probs = {k: torch.softmax(mutator.arch_param(k).double(), -1)
             for k in keys}
    estimator = TASK_UTILS.build(dict(type='mmrazor.ResourceEstimator',
                                      input_shape=(1, 3, 32, 32)))
    total = 0.
    with plain_choices(mutator):
        for picks in itertools.product(*(mutator.choices[k] for k in keys)):
            mutator.set_choices(dict(zip(keys, picks)))
            flops = estimator.estimate(algo.architecture)['flops']
            p = 1.
            for k, c in zip(keys, picks):
                p = p * probs[k][mutator.choices[k].index(c)]
            total = total + p * flops
    return total


def test_flops_penalty_is_the_gradient_of_the_expected_flops():
    algo = _dsnas_shufflenet(flops_constraints=0.0, flops_loss_coef=0.5)
    for p in algo.mutator.parameters():
        p.data.normal_(0, 1)
    penalty = algo.flops_penalty
    grads, expected, applied = penalty.grads(algo.nas_mutator)
    reference = _brute_force_expected_flops(algo)
    ref_grads = torch.autograd.grad(reference,
                                    list(algo.mutator.parameters()))
    assert applied and expected == pytest.approx(float(reference.detach()),
                                               rel=1e-6)
    for g, r in zip(grads, ref_grads):
        assert torch.allclose(g, 0.5 * r, rtol=1e-5, atol=1e-9)
        assert g.abs().sum() > 0
    # the costs differ between the ops, the blocks' choices were restored
    costs = penalty.table.choice_costs('flops')
    assert all(len(set(c.values())) == 4 for c in costs.values())
    assert all(m.current_choice is None and m.arch_param is not None
               for m in algo.nas_mutator.mutables.values())


def test_flops_penalty_applies_above_the_constraint_only():
    algo = _dsnas_shufflenet(flops_constraints=1e6)  # never reached
    grads, expected, applied = algo.flops_penalty.grads(algo.nas_mutator)
    assert not applied and all(not g.any() for g in grads)
    # in a step: the architecture moves by the DSNAS estimator plus the
    # penalty's gradient (lr 1.0), i.e. by the penalty alone vs without
    results = {}
    for constraint in (None, 0.0):
        algo = _dsnas_shufflenet(flops_constraints=constraint)
        before = [p.detach().clone() for p in algo.mutator.parameters()]
        torch.manual_seed(1)
        _set_epoch(0)
        logs = algo.train_step(_data(4, 32), _optim(algo))
        results[constraint] = [b - p.detach() for b, p in
                               zip(before, algo.mutator.parameters())]
        if constraint is not None:
            extra, _, _ = algo.flops_penalty.grads(algo.nas_mutator)
            assert logs['mutator.flops_penalty_on'] == 1
            assert logs['mutator.expected_flops'] > 0
    # (extra is evaluated after the step; the step is tiny at 1e-2 * MFLOPs
    # scale, so compare with a tolerance)
    for a, b, e in zip(results[None], results[0.0], extra):
        assert torch.allclose(b - a, e, rtol=1e-3, atol=1e-6)


def test_flops_penalty_needs_one_hot_blocks():
    with pytest.raises(TypeError, match='OneHotMutableOP blocks.*'
                       'DiffChoiceRoute'):
        _dsnas(flops_constraints=100.)
