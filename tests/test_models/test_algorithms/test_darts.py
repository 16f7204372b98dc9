# Copyright (c) OpenMMLab. All rights reserved.
"""Darts: the architecture gradients against float64 references, and the
weight update against a training-batch-only step."""
import copy

import pytest
import torch
import torch.nn as nn
from mmcls.structures import ClsDataSample
from mmengine.model import BaseDataPreprocessor
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch.func import functional_call

from mmrazor.registry import MODELS
from mmrazor.testing.darts import tiny_darts_classifier

OPS = ('zero', 'skip_connect', 'max_pool_3x3', 'sep_conv_3x3',
       'dil_conv_3x3')
SMOOTH_OPS = ('zero', 'skip_connect', 'avg_pool_3x3', 'sep_conv_3x3',
              'dil_conv_3x3')


def _smooth(module):
    """ReLU -> SiLU everywhere. The paper's finite difference moves the
    weights by 0.01 (in norm); on a small ReLU/max-pool net that crosses
    kinks, where any finite difference is off by the jump (checked: 0.6 to
    2.6 relative on ReLU nets at every size tried, 1e-6 once smooth). A
    smooth net isolates what is tested: the implementation of eq. 7-8."""
    for name, child in list(module.named_children()):
        if isinstance(child, nn.ReLU):
            setattr(module, name, nn.SiLU())
        else:
            _smooth(child)


def _algorithm(unroll=True, seed=0, smooth=False, channels=2, size=8):
    torch.manual_seed(seed)
    arch = tiny_darts_classifier(
        base_channels=channels, num_layers=2, num_nodes=2, num_classes=3,
        ops=SMOOTH_OPS if smooth else OPS)
    # a preprocessor that keeps float64 (mmcls' casts to float32)
    algo = MODELS.build(
        dict(type='mmrazor.Darts', architecture=arch, unroll=unroll,
             data_preprocessor=BaseDataPreprocessor())).double()
    if smooth:
        _smooth(algo)
    for alpha in algo.mutator.parameters():
        alpha.data.normal_(0, 0.5)
    return algo


def _batch(seed, n=4, size=8):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, size, size, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (n, ), generator=g)
    return dict(inputs=inputs,
                data_samples=[ClsDataSample().set_gt_label(int(t))
                              for t in labels])


def _optim(algo, lr=0.5):
    weights = OptimWrapper(torch.optim.SGD(
        algo.architecture.parameters(), lr=lr, momentum=0.9,
        weight_decay=3e-4))
    arch = OptimWrapper(torch.optim.Adam(algo.mutator.parameters(), 3e-4))
    return OptimWrapperDict(architecture=weights, mutator=arch)


def _with_momentum(algo, optim):
    """One plain weight step so that SGD has momentum buffers."""
    algo.weight_step(_batch(7), optim['architecture'])


def _loss(algo, data, params=None):
    arch = algo.architecture
    args = (data['inputs'], data['data_samples'])
    losses = arch(*args, mode='loss') if params is None else functional_call(
        arch, params, args, dict(mode='loss'))
    return sum(v for k, v in losses.items() if 'loss' in k)


def _exact_unrolled(algo, optim, train, val):
    """d/dalpha L_val(w'(alpha), alpha) with w' built in the graph."""
    sgd = optim['architecture'].optimizer
    group = sgd.param_groups[0]
    names, weights = zip(*algo.architecture.named_parameters())
    alphas = list(algo.mutator.parameters())
    grads = torch.autograd.grad(_loss(algo, train), weights,
                                create_graph=True, allow_unused=True)
    virtual = {}
    for name, w, g in zip(names, weights, grads):
        g = torch.zeros_like(w) if g is None else g
        m = sgd.state[w]['momentum_buffer']
        virtual[name] = w - group['lr'] * (
            group['momentum'] * m + g + group['weight_decay'] * w)
    return torch.autograd.grad(_loss(algo, val, virtual), alphas)


def _hvp_formula(algo, optim, train, val):
    """dalpha - xi * (d2 L_train / dalpha dw) dw', the Hessian-vector
    product by double backward at w (the paper's eq. 7 without its finite
    difference)."""
    lr = optim['architecture'].optimizer.param_groups[0]['lr']
    backup = [w.detach().clone() for w in algo.architecture.parameters()]
    algo._virtual_step(train, list(algo.architecture.parameters()),
                       optim['architecture'])
    weights = list(algo.architecture.parameters())
    alphas = list(algo.mutator.parameters())
    grads = torch.autograd.grad(_loss(algo, val), alphas + weights,
                                allow_unused=True)
    d_alpha = grads[:len(alphas)]
    d_w = [torch.zeros_like(w) if g is None else g
           for w, g in zip(weights, grads[len(alphas):])]
    algo._set_weights(weights, backup)
    g_w = torch.autograd.grad(_loss(algo, train), weights, create_graph=True,
                              allow_unused=True)
    dot = sum((g * v).sum() for g, v in zip(g_w, d_w) if g is not None)
    hvp = torch.autograd.grad(dot, alphas)
    return [da - lr * h for da, h in zip(d_alpha, hvp)]


def _rel(a, b):
    a = torch.cat([t.reshape(-1) for t in a])
    b = torch.cat([t.reshape(-1) for t in b])
    return float((a - b).norm() / b.norm())


def test_second_order_gradient_matches_float64_references():
    algo = _algorithm(unroll=True, smooth=True, channels=8)
    optim = _optim(algo)
    algo.weight_step(_batch(7, 8, 16), optim['architecture'])  # momentum
    train, val = _batch(1, 8, 16), _batch(2, 8, 16)
    exact = _exact_unrolled(algo, optim, train, val)
    formula = _hvp_formula(algo, optim, train, val)
    before = [w.detach().clone() for w in algo.architecture.parameters()]
    ours, _ = algo.unrolled_arch_grads(train, val, optim['architecture'])
    first, _ = algo.first_order_arch_grads(val)
    # the two references agree with each other (chain rule, exactly)
    assert _rel(formula, exact) < 1e-10
    # ours (finite differences, eps = 0.01 / ||dw'||) is within 1e-4
    assert _rel(ours, exact) < 1e-4
    # and the Hessian term matters here: first order is far off
    assert _rel(first, exact) > 1e-2
    # weights are restored bit for bit, and no .grad was written
    for w, b in zip(algo.architecture.parameters(), before):
        assert torch.equal(w, b) and w.grad is None


def test_first_order_gradient_is_the_validation_gradient():
    algo = _algorithm(unroll=False)
    val = _batch(2)
    ours, _ = algo.first_order_arch_grads(val)
    ref = torch.autograd.grad(_loss(algo, val),
                              list(algo.mutator.parameters()))
    assert _rel(ours, ref) < 1e-12


@pytest.mark.parametrize('unroll', [False, True])
def test_weight_update_uses_the_training_batch_only(unroll):
    """After a full train_step, the weights equal those of a plain SGD step
    on the training batch at the new alphas (and differ when the
    validation gradient leaks in, as in the original MMRazor)."""
    algo = _algorithm(unroll=unroll)
    optim = _optim(algo)
    _with_momentum(algo, optim)
    ref = copy.deepcopy(algo)
    ref_optim = _optim(ref)
    # (deep copies: load_state_dict would share the momentum buffers)
    ref_optim['architecture'].optimizer.load_state_dict(
        copy.deepcopy(optim['architecture'].optimizer.state_dict()))
    buffers = [b.clone() for b in algo.architecture.buffers()]
    train, val = _batch(1), _batch(2)
    logs = algo.train_step((train, val), optim)
    assert {'mutator.loss', 'supernet.loss'} <= set(logs)
    for a, b in zip(ref.mutator.parameters(), algo.mutator.parameters()):
        assert not torch.equal(a, b)  # the architecture step moved alpha
        a.data.copy_(b.data)
    leak = copy.deepcopy(ref)
    leak_optim = _optim(leak)
    leak_optim['architecture'].optimizer.load_state_dict(
        copy.deepcopy(ref_optim['architecture'].optimizer.state_dict()))
    # the reference: a plain backward of the training loss, one SGD step
    ref_optim['architecture'].update_params(_loss(ref, train))
    for w, r in zip(algo.architecture.parameters(),
                    ref.architecture.parameters()):
        assert torch.allclose(w, r, rtol=0, atol=1e-12)
    # the original's behaviour: validation gradients left in .grad
    _loss(leak, val).backward()
    leak_optim['architecture'].update_params(_loss(leak, train))
    assert any(not torch.allclose(w, r, rtol=0, atol=1e-8)
               for w, r in zip(leak.architecture.parameters(),
                               ref.architecture.parameters()))
    # BN statistics moved by the weight step only (checked on one BN)
    assert any(not torch.equal(a, b)
               for a, b in zip(buffers, algo.architecture.buffers()))


def test_derived_subnet_is_in_the_original_layout():
    algo = _algorithm()
    subnet = algo.export_subnet()
    assert set(subnet) == set(algo.mutator.search_groups)
    assert all(isinstance(v['chosen'], list) for v in subnet.values())
    assert len(subnet['reduce_n3']['chosen']) == 2  # 2 layers: 2 reduce
    assert 'zero' not in {c for v in subnet.values() for c in v['chosen']}


def test_needs_a_batch_pair_and_two_wrappers():
    algo = _algorithm()
    with pytest.raises(TypeError, match='SeparateOptimWrapperConstructor'):
        algo.train_step((_batch(1), _batch(2)),
                        _optim(algo)['architecture'])
    with pytest.raises(TypeError, match='DartsEpochBasedTrainLoop'):
        algo.train_step(_batch(1), _optim(algo))


def _alphas(algo):
    return [a.detach().clone() for a in algo.mutator.parameters()]


@pytest.mark.parametrize('told', [None, 'iters', 'epochs'])
def test_arch_warmup_makes_weight_steps_only(told):
    """A 2-step warm-up (the loop's iterations or epochs, or the
    algorithm's own count of steps when no loop tells it) leaves alpha
    alone and still trains the weights; the third step moves alpha."""
    algo = _algorithm(unroll=False)
    if told == 'epochs':
        algo.arch_warmup_epochs = 2
    else:
        algo.arch_warmup_iters = 2
    optim = _optim(algo)
    for it in range(3):
        if told == 'iters':
            algo.set_train_progress(None, it)
        elif told == 'epochs':
            algo.set_train_progress(it, 10 * it)
        alphas = _alphas(algo)
        weights = [w.detach().clone() for w in algo.architecture.parameters()]
        logs = algo.train_step((_batch(it), _batch(10 + it)), optim)
        moved = [not torch.equal(a, b) for a, b in zip(alphas, _alphas(algo))]
        assert any(not torch.equal(a, b) for a, b in zip(
            weights, algo.architecture.parameters()))
        if it < 2:
            assert not any(moved) and set(logs) == {'supernet.loss'}
        else:
            assert any(moved) and 'mutator.loss' in logs


def test_arch_warmup_epochs_need_an_epoch_loop():
    algo = _algorithm(unroll=False)
    algo.arch_warmup_epochs = 1
    algo.set_train_progress(None, 0)
    with pytest.raises(RuntimeError, match='DartsEpochBasedTrainLoop'):
        algo.train_step((_batch(0), _batch(1)), _optim(algo))


@pytest.mark.parametrize('value', [-1, 1.5, True])
@pytest.mark.parametrize('name', ['arch_warmup_iters', 'arch_warmup_epochs'])
def test_arch_warmup_rejects_bad_values(name, value):
    arch = tiny_darts_classifier(base_channels=2, num_layers=2, num_nodes=2,
                                 num_classes=3, ops=OPS)
    with pytest.raises(ValueError, match=f'{name} must be an int'):
        MODELS.build(dict(type='mmrazor.Darts', architecture=arch,
                          **{name: value}))
    with pytest.raises(ValueError, match='not both'):
        MODELS.build(dict(type='mmrazor.Darts', architecture=arch,
                          arch_warmup_iters=2, arch_warmup_epochs=1))
