# Copyright (c) OpenMMLab. All rights reserved.
"""DiffMutableOP, DiffChoiceRoute, GumbelChoiceRoute, OneHotMutableOP."""
import pytest
import torch
import torch.nn as nn

from mmrazor.models.mutables import (
    DiffChoiceRoute,
    DiffMutableOP,
    GumbelChoiceRoute,
    OneHotMutableOP,
)
from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS
from mmrazor.testing.darts import darts_candidates


def _op(**kwargs):
    return DiffMutableOP(
        candidates=darts_candidates(
            ('zero', 'skip_connect', 'sep_conv_3x3', 'max_pool_3x3')),
        module_kwargs=dict(in_channels=4, out_channels=4, stride=1),
        **kwargs)


def test_mixture_is_softmax_weighted_sum():
    torch.manual_seed(0)
    op = _op()
    op.eval()
    alpha = torch.tensor([0.3, -0.2, 1.0, 0.1])
    x = torch.randn(2, 4, 6, 6)
    p = torch.softmax(alpha, -1)
    expected = sum(p[i] * m(x) for i, m in enumerate(op._candidates.values()))
    assert torch.allclose(op(x, alpha), expected, atol=1e-6)
    op.set_arch_param(alpha)
    assert torch.allclose(op(x), expected, atol=1e-6)


def test_zero_probability_candidates_are_not_run():
    op = _op()
    calls = []
    for name, m in op._candidates.items():
        m.register_forward_hook(lambda *a, n=name: calls.append(n))
    op(torch.randn(1, 4, 4, 4), torch.tensor([-float('inf'), 0., 0., -1e9]))
    assert calls == ['skip_connect', 'sep_conv_3x3']


def test_derive_excludes_zero_unless_told():
    op = _op()
    op.set_arch_param(torch.tensor([5., 1., 2., 0.]))
    assert op.derive_choice() == 'sep_conv_3x3'
    assert op.derive_choice(exclude=()) == 'zero'


def test_fix_dump_roundtrip_and_static_parity():
    torch.manual_seed(0)
    op = _op()
    op.set_arch_param(torch.tensor([0., 0., 3., 0.]))
    assert op.dump_chosen().chosen == ['sep_conv_3x3']
    op.fix_chosen(['sep_conv_3x3'])
    assert op.is_fixed and op.choices == ['sep_conv_3x3']
    assert op.arch_param is None and op.arch_param_size == 0
    assert op.dump_chosen().chosen == ['sep_conv_3x3']
    op.fix_chosen('sep_conv_3x3')  # the same choice again is fine
    with pytest.raises(AttributeError, match='already fixed'):
        op.fix_chosen('skip_connect')
    op.eval()
    static = op.to_static_op().eval()
    assert set(static.state_dict()) == set(op.state_dict())
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(static(x), op(x))


def test_bad_choice_names_what_is_allowed():
    op = _op()
    with pytest.raises(ValueError, match='not among its choices'):
        op.current_choice = ['conv_9x9']
    with pytest.raises(ValueError, match='fix_threshold'):
        _op(fix_threshold=2.0)


def _route(cls=DiffChoiceRoute, **kwargs):
    edges = nn.ModuleDict({
        f'e{i}': nn.Conv2d(2, 2, 1, bias=False)
        for i in range(3)
    })
    return cls(edges=edges, alias='n2', **kwargs)


def test_route_weights_and_fixed_inputs():
    torch.manual_seed(0)
    route = _route(with_arch_param=True)
    xs = [torch.randn(1, 2, 3, 3) for _ in range(3)]
    beta = torch.tensor([0.5, -1.0, 2.0])
    p = torch.softmax(beta, -1)
    edges = list(route._candidates.values())
    expected = sum(p[i] * edges[i](xs[i]) for i in range(3))
    assert torch.allclose(route(xs, beta), expected, atol=1e-6)
    route.set_arch_param(beta)
    assert route.derive_choice() == ['e2', 'e0']
    route.fix_chosen(['e2', 'e0'])
    # the kept edges still read their own inputs
    assert torch.allclose(route(xs), edges[2](xs[2]) + edges[0](xs[0]))
    static = route.to_static_op()
    assert torch.allclose(static(xs), route(xs))
    with pytest.raises(ValueError, match='needs one input each'):
        route(xs[:2])


def test_route_without_param_ranks_edges_by_op_strength():
    edges = nn.ModuleDict()
    strengths = [[0., 3., 0.], [9., 1., 1.], [0., 1., 2.]]
    for i, s in enumerate(strengths):
        edge = DiffMutableOP(
            candidates=darts_candidates(('zero', 'skip_connect',
                                         'max_pool_3x3')),
            module_kwargs=dict(in_channels=2, out_channels=2, stride=1))
        edge.set_arch_param(torch.tensor(s))
        edges[f'e{i}'] = edge
    route = DiffChoiceRoute(edges, num_chosen=2)
    assert route.arch_param_size == 0
    # e1's zero is strongest, but zero does not count: e0 then e2
    assert route.derive_choice() == ['e0', 'e2']


def test_gumbel_route_hard_runs_one_edge():
    torch.manual_seed(0)
    route = _route(GumbelChoiceRoute, tau=0.5, hard=True)
    beta = torch.zeros(3, requires_grad=True)
    xs = [torch.full((1, 2, 2, 2), float(i + 1)) for i in range(3)]
    for edge in route._candidates.values():
        nn.init.ones_(edge.weight)
    out = route(xs, beta)
    # one edge of value 2 * (i + 1) per pixel, scaled by exactly 1
    assert out.unique().numel() == 1 and out.unique().item() in (2., 4., 6.)
    out.sum().backward()
    assert beta.grad is not None and beta.grad.abs().sum() > 0
    route.set_temperature(0.1)
    assert route.tau == 0.1
    with pytest.raises(ValueError, match='> 0'):
        route.set_temperature(0.)


def _one_hot(fix_threshold=0.3):
    return OneHotMutableOP(
        candidates=darts_candidates(
            ('skip_connect', 'max_pool_3x3', 'avg_pool_3x3')),
        fix_threshold=fix_threshold,
        module_kwargs=dict(in_channels=2, out_channels=2, stride=1))


def test_one_hot_early_fix_picks_the_argmax():
    """softmax([0, ln 2, ln 8]) = [1/11, 2/11, 8/11]: top1 - top2 = 6/11 >=
    0.3, so the op is fixed to index 2 (the original fixed index 1)."""
    op = _one_hot(fix_threshold=0.3)
    op.set_arch_param(torch.log(torch.tensor([1., 2., 8.])))
    op.train()
    op(torch.randn(1, 2, 4, 4))
    assert op.is_fixed and op.current_choice == 'avg_pool_3x3'
    assert op.choices == ['avg_pool_3x3']


def test_one_hot_samples_and_records_credit():
    torch.manual_seed(0)
    op = _one_hot(fix_threshold=1.0)
    op.set_arch_param(torch.zeros(3))
    op.train()
    x = torch.randn(1, 2, 4, 4, requires_grad=True)
    out = op(x)
    assert not op.is_fixed
    z, s = op.arch_weights, op.sampled_index
    assert z.sum() == 1 and z[s] == 1
    out.sum().backward()
    expected = op._candidates[op.choices[s]](x).sum()
    assert torch.allclose(z.grad[s], expected)
    op.eval()  # eval runs the most probable op, samples nothing
    op.set_arch_param(torch.tensor([0., 5., 0.]))
    assert torch.equal(op(x), op._candidates['max_pool_3x3'](x))


@pytest.mark.parametrize('name', [
    'DiffMutableOP', 'OneHotMutableOP', 'DiffChoiceRoute',
    'GumbelChoiceRoute'
])
def test_registered_and_mutator_shares_params_by_alias(name):
    cls = MODELS.get(name)
    if 'Route' in name:
        mutables = [_route(cls, with_arch_param=True) for _ in range(2)]
    else:
        mutables = [
            cls(candidates=darts_candidates(('skip_connect', 'zero')),
                module_kwargs=dict(in_channels=2, out_channels=2),
                alias='edge') for _ in range(2)
        ]
    net = nn.ModuleList(mutables)
    mutator = NasMutator()
    mutator.prepare_from_supernet(net)
    (key, ) = mutator.search_groups
    param = mutator.arch_param(key)
    assert all(m.arch_param is param for m in mutables)
    assert [n for n, _ in mutator.named_parameters()] == [
        f'arch_params.{key}'
    ]
    assert not any(p is param for m in mutables for p in m.parameters())
