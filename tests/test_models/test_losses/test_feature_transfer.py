# Copyright (c) OpenMMLab. All rights reserved.
import math

import pytest
import torch

from mmrazor.registry import MODELS


def build(type_, **kwargs):
    return MODELS.build(dict(type=f'mmrazor.{type_}', **kwargs))


def feats(s_shape=(2, 3, 2, 3), t_shape=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(*s_shape, generator=gen, dtype=torch.float64)
    t = torch.randn(*(t_shape or s_shape), generator=gen, dtype=torch.float64)
    return s, t


def unit(vec):
    norm = math.sqrt(sum(v * v for v in vec))
    return [v / norm for v in vec]


def attention_by_hand(x):
    n, c, h, w = x.shape
    maps = []
    for i in range(n):
        q = [sum(x[i, ch, a, b].item()**2 for ch in range(c)) / c
             for a in range(h) for b in range(w)]
        maps.append(unit(q))
    return maps


def test_at_matches_attention_map_formula_with_other_channels():
    s, t = feats((2, 3, 2, 3), (2, 5, 2, 3))
    q_s, q_t = attention_by_hand(s), attention_by_hand(t)
    total = sum((a - b)**2 for rs, rt in zip(q_s, q_t)
                for a, b in zip(rs, rt))
    loss = build('ATLoss', loss_weight=2.0)(s, t)
    assert loss.item() == pytest.approx(2 * total / (2 * 6), rel=1e-9)
    with pytest.raises(ValueError, match=r'\(2, 1, 2, 3\).*\(2, 1, 3, 3\)'):
        build('ATLoss')(s, torch.randn(2, 3, 3, 3, dtype=s.dtype))


def test_ft_matches_normalised_factor_l1():
    s, t = feats(seed=1)
    rows = [(unit(s[i].reshape(-1).tolist()), unit(t[i].reshape(-1).tolist()))
            for i in range(2)]
    total = sum(abs(a - b) for rs, rt in rows for a, b in zip(rs, rt))
    loss = build('FTLoss', loss_weight=0.5)(s, t)
    assert loss.item() == pytest.approx(0.5 * total / s.numel(), rel=1e-9)


def test_ab_matches_activation_boundary_formula():
    s, t = feats(seed=2)
    m = 0.5
    total = 0.0
    for a, b in zip(s.reshape(-1).tolist(), t.reshape(-1).tolist()):
        if b <= 0 and a > -m:
            total += (a + m)**2
        if b > 0 and a <= m:
            total += (a - m)**2
    loss = build('ABLoss', margin=m)(s, t)
    assert loss.item() == pytest.approx(total / 2 / 1000 * 3, rel=1e-9)


def test_cwd_matches_channel_distribution_kl():
    s, t = feats(seed=3)
    tau = 2.0
    n, c = s.shape[:2]
    total = 0.0
    for i in range(n):
        for ch in range(c):
            zs = s[i, ch].reshape(-1).tolist()
            zt = t[i, ch].reshape(-1).tolist()
            es = [math.exp(v / tau) for v in zs]
            et = [math.exp(v / tau) for v in zt]
            ps = [v / sum(es) for v in es]
            pt = [v / sum(et) for v in et]
            total += sum(b * (math.log(b) - math.log(a))
                         for a, b in zip(ps, pt))
    loss = build('ChannelWiseDivergence', tau=tau, loss_weight=3.0)(s, t)
    assert loss.item() == pytest.approx(3 * tau**2 * total / (n * c),
                                        rel=1e-9)


@pytest.mark.parametrize('type_', ['ATLoss', 'FTLoss',
                                   'ChannelWiseDivergence'])
@pytest.mark.parametrize('detach', [True, False])
def test_gradients_follow_teacher_detach(type_, detach):
    s, t = feats(seed=4)
    s.requires_grad_()
    t.requires_grad_()
    build(type_, teacher_detach=detach)(s, t).backward()
    assert s.grad.abs().sum() > 0
    assert (t.grad is None) == detach


def test_ab_never_sends_gradient_to_teacher():
    s, t = feats(seed=5)
    s.requires_grad_()
    t.requires_grad_()
    build('ABLoss')(s, t).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None


@pytest.mark.parametrize('type_', ['FTLoss', 'ABLoss',
                                   'ChannelWiseDivergence'])
def test_shape_mismatch_names_both_shapes(type_):
    with pytest.raises(ValueError, match=r'\(2, 3, 2, 2\).*\(2, 4, 2, 2\)'):
        build(type_)(torch.randn(2, 3, 2, 2), torch.randn(2, 4, 2, 2))


@pytest.mark.parametrize('type_,kwargs,field', [
    ('ATLoss', dict(loss_weight='x'), 'loss_weight'),
    ('ABLoss', dict(margin=-1.0), 'margin'),
    ('ChannelWiseDivergence', dict(tau=0), 'tau'),
    ('FTLoss', dict(loss_weight=float('nan')), 'loss_weight'),
])
def test_argument_errors(type_, kwargs, field):
    with pytest.raises(ValueError, match=f'{type_}: `{field}`') as err:
        build(type_, **kwargs)
    assert repr(next(iter(kwargs.values()))) in str(err.value)
