# Copyright (c) OpenMMLab. All rights reserved.
"""DMCP: the Markov chain's numerics, the FLOPs table, a training step."""
import itertools
import json

import pytest
import torch
import torch.nn as nn
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.models import DMCPChannelMutator, DMCPChannelUnit
from mmrazor.models.utils import GroupFisherDeploySubModel, export_pruned_model
from mmrazor.registry import MODELS

from ._prune_toy import CONV1, CONV2, PARSE_CFG, batch, tiny_classifier

DISTILLER = dict(
    type='ConfigurableDistiller',
    teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=1)),
    loss_forward_mappings=dict(loss_kl=dict(
        preds_S=dict(recorder='fc', from_student=True),
        preds_T=dict(recorder='fc', from_student=False))))


def build(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='DMCP',
        architecture=tiny_classifier(),
        distiller=DISTILLER,
        mutator_cfg=dict(
            type='DMCPChannelMutator',
            channel_unit_cfg=dict(type='DMCPChannelUnit'),
            parse_cfg=PARSE_CFG,
            pruning_cfg=(0.25, 1.0, 0.25)),
        strategy=['max', 'min', 'arch_random'],
        arch_start_train=0,
        arch_train_freq=1,
        distillation_times=0,
        target_flops=1.0)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def macs(model, x):
    """Multiply-accumulates of every conv and linear layer, counted by
    hooks on a forward (independently of the mutator's table)."""
    total = []

    def hook(m, a, out):
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            total.append(out[0].numel() * k * m.in_channels // m.groups)
        else:
            total.append(out[0].numel() * m.in_features)

    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(x, mode='tensor')
    for h in hs:
        h.remove()
    return sum(total)


def test_groups_and_expected_channels_by_enumeration():
    unit = DMCPChannelUnit(16)
    assert unit.set_groups(0.25, 1.0, 0.25) == (4, 3, 4)
    alpha = torch.tensor([0.3, -1.0, 1.2])
    p = torch.exp(-alpha.clamp(min=0))  # [e^-0.3, 1, e^-1.2]
    # P(exactly k groups kept) = p_1..p_k (1 - p_{k+1}): the chain's walk
    lengths = []
    for k in range(4):
        keep = torch.prod(p[:k]) if k else torch.tensor(1.)
        stop = (1 - p[k]) if k < 3 else torch.tensor(1.)
        lengths.append(keep * stop)
    assert float(sum(lengths)) == pytest.approx(1.0)
    expected = sum(float(q) * (4 + 4 * k) for k, q in enumerate(lengths))
    assert float(unit.expected_channels(alpha)) == pytest.approx(expected)
    scale = unit.channel_scale(alpha)
    torch.testing.assert_close(
        scale, torch.cat([torch.ones(4),
                          torch.cumprod(p, 0).repeat_interleave(4)]))
    # walks: never past a group of probability 0, always with 1
    assert unit.sample_markov(torch.tensor([0., 0., 50.])) == 12
    assert unit.sample_markov(torch.zeros(3)) == 16


def test_flops_table_and_expected_flops():
    algo = build().eval()
    mutator = algo.mutator
    assert isinstance(mutator, DMCPChannelMutator)
    units = {u.name: u for u in mutator.units}
    assert set(units) == {CONV1, CONV2}
    x = torch.rand(1, 3, 16, 16)
    # the table against an independent count of the static models
    for mode in ('max', 'min', 'random'):
        algo.set_subnet(mode)
        static, structure = export_pruned_model(algo)
        assert mutator.current_flops() * 1e6 == pytest.approx(
            macs(static, x))
    # expected FLOPs: the exact expectation over the two chains
    with torch.no_grad():
        for i, param in mutator.arch_params.items():
            param.copy_(torch.linspace(-0.5, 1.0, len(param)) * (1 + int(i)))
    widths = []
    for i, unit in enumerate(mutator.units):
        p = unit.transition_probs(mutator.arch_params[str(i)].detach())
        options = []
        for k in range(unit.num_groups + 1):
            keep = torch.prod(p[:k]) if k else torch.tensor(1.)
            stop = (1 - p[k]) if k < unit.num_groups else torch.tensor(1.)
            options.append((unit.min_channels + unit.group_size * k,
                            float(keep * stop)))
        widths.append(options)
    exact = 0.
    for (c1, q1), (c2, q2) in itertools.product(*widths):
        mutator.units[0].current_choice = c1
        mutator.units[1].current_choice = c2
        exact += q1 * q2 * mutator.current_flops()
    expected = mutator.expected_flops()
    assert float(expected) == pytest.approx(exact, rel=1e-5)
    expected.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in mutator.arch_params.values())


def test_bn_outputs_scaled_by_keep_probabilities():
    algo = build().eval()
    mutator = algo.mutator
    with torch.no_grad():
        mutator.arch_params['0'].fill_(0.5)
    bn = algo.architecture.backbone.conv1.bn
    seen = []
    handle = bn.register_forward_hook(lambda m, a, out: seen.append(out))
    x = torch.rand(2, 3, 16, 16)
    for arch_train in (False, True):
        algo.set_subnet('max', arch_train=arch_train)
        with torch.no_grad():
            algo(x, mode='tensor')
    handle.remove()
    scale = mutator.units[0].channel_scale(mutator.arch_params['0'])
    torch.testing.assert_close(seen[1], seen[0] * scale.view(1, -1, 1, 1))


def wrappers(algo):
    return OptimWrapperDict(
        architecture=OptimWrapper(
            torch.optim.SGD(algo.architecture.parameters(), lr=0.05)),
        mutator=OptimWrapper(
            torch.optim.Adam(algo.mutator.parameters(), lr=0.5)))


def test_train_steps_shrink_the_expected_flops():
    algo = build(strategy=['max', 'min', 'scheduled_random',
                           'arch_random'])
    algo.train()
    optim = wrappers(algo)
    hub = MessageHub.get_current_instance()
    start = float(algo.mutator.expected_flops())
    weights = algo.architecture.backbone.conv1.conv.weight.clone()
    for i in range(1, 4):
        hub.update_info('iter', i)
        logs = algo.train_step(batch(seed=i), optim)
    assert {'max_subnet1.loss', 'min_subnet1.loss', 'arch.loss',
            'flops.loss', 'flops.expected_mflops'} <= set(logs)
    assert any(k.startswith('min_subnet1.') and k.endswith('loss_kl')
               for k in logs)
    assert all(torch.isfinite(v).all() for v in logs.values())
    # target 1 MFLOP is far below: the parameters lower the expectation
    assert float(algo.mutator.expected_flops()) < start
    assert not torch.equal(weights,
                           algo.architecture.backbone.conv1.conv.weight)
    # the largest subnet is set for validation
    assert all(u.activated_channels == u.num_channels
               for u in algo.mutator.units)


def test_sampled_structure_builds_the_pruned_model(tmp_path):
    algo = build().eval()
    with torch.no_grad():
        for param in algo.mutator.arch_params.values():
            param.fill_(0.7)
    algo.set_subnet('expected')
    structure = {u.name: int(u.activated_channels)
                 for u in algo.mutator.units}
    assert structure[CONV1] < 8 and structure[CONV2] < 16
    path = tmp_path / 'expected_ch.json'
    path.write_text(json.dumps(structure))
    static, _ = export_pruned_model(algo)
    deploy = GroupFisherDeploySubModel(
        tiny_classifier(), fix_subnet=str(path), parse_cfg=PARSE_CFG).eval()
    deploy.load_state_dict(static.state_dict())
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(deploy(x, mode='tensor'),
                                   algo(x, mode='tensor'))


@pytest.mark.parametrize('kwargs, match', [
    (dict(strategy=['min', 'max']), "start with 'max'"),
    (dict(strategy=['max', 'wide']), 'strategy'),
    (dict(flops_loss_type='l3'), 'flops_loss_type'),
    (dict(target_flops=0), 'target_flops'),
    (dict(arch_train_freq=0), 'arch_train_freq'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build(**kwargs)


def test_flops_losses():
    algo = build(target_flops=100.)
    t = torch.tensor
    assert float(algo.flops_loss(t(90.))) == pytest.approx(
        float(torch.log(t(10.))))
    assert float(algo.flops_loss(t(97.))) == 0
    assert float(algo.flops_loss(t(105.))) == pytest.approx(
        float(torch.log(t(10.))))
    algo.flops_loss_type = 'l2'
    assert float(algo.flops_loss(t(103.))) == pytest.approx(9.)


def test_subnet_hook_writes_structures_near_the_target(tmp_path):
    from types import SimpleNamespace

    from mmengine.logging import MMLogger

    from mmrazor.engine import DMCPSubnetHook
    algo = build().eval()
    with torch.no_grad():
        for param in algo.mutator.arch_params.values():
            param.fill_(0.3)
    algo.set_subnet('expected')
    algo.target_flops = algo.calc_current_flops()
    runner = SimpleNamespace(
        rank=0, work_dir=str(tmp_path), model=algo,
        logger=MMLogger.get_instance('dmcp_hook_test'))
    (tmp_path / 'model_sample').mkdir()  # an earlier run's: kept
    torch.manual_seed(0)
    DMCPSubnetHook(subnet_sample_num=3).after_run(runner)
    out = tmp_path / 'model_sample_1'
    files = sorted(p.name for p in out.iterdir())
    assert files == ['expected_ch.json', 'subnet_1.json', 'subnet_2.json',
                     'subnet_3.json']
    for name in files:
        structure = json.loads((out / name).read_text())
        for unit in algo.mutator.units:
            unit.current_choice = structure[unit.name]
        flops = algo.calc_current_flops()
        assert abs(flops - algo.target_flops) <= 0.05 * algo.target_flops
