# Copyright (c) OpenMMLab. All rights reserved.
import math

import pytest
import torch

from mmrazor.registry import MODELS


def build(type_, **kwargs):
    return MODELS.build(dict(type=f'mmrazor.{type_}', **kwargs))


def embeddings(seed=0, n=4, d_s=3, d_t=5):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d_s, generator=gen, dtype=torch.float64),
            torch.randn(n, d_t, generator=gen, dtype=torch.float64))


def rows(x, l2_norm):
    out = x.tolist()
    if l2_norm:
        out = [[v / math.sqrt(sum(u * u for u in r)) for v in r] for r in out]
    return out


def huber(a, b):
    d = abs(a - b)
    return 0.5 * d * d if d < 1 else d - 0.5


def distances(points):
    n = len(points)
    d = [[math.dist(points[i], points[j]) for j in range(n)]
         for i in range(n)]
    mu = sum(d[i][j] for i in range(n) for j in range(n) if i != j) / (
        n * (n - 1))
    return [[v / mu for v in r] for r in d]


def cosines(points):
    n = len(points)

    def unit(i, j):
        vec = [a - b for a, b in zip(points[i], points[j])]
        norm = math.sqrt(sum(v * v for v in vec))
        return [v / norm for v in vec] if norm > 0 else [0.0] * len(vec)

    return [[[sum(a * b for a, b in zip(unit(i, j), unit(k, j)))
              for k in range(n)] for i in range(n)] for j in range(n)]


@pytest.mark.parametrize('l2_norm', [True, False])
def test_distance_wise_matches_paper_formula(l2_norm):
    s, t = embeddings()
    ds, dt = distances(rows(s, l2_norm)), distances(rows(t, l2_norm))
    n = len(ds)
    expected = sum(huber(ds[i][j], dt[i][j]) for i in range(n)
                   for j in range(n)) / n**2
    loss = build('DistanceWiseRKD', with_l2_norm=l2_norm)(s, t)
    assert loss.item() == pytest.approx(25.0 * expected, rel=1e-6)


@pytest.mark.parametrize('l2_norm', [True, False])
def test_angle_wise_matches_paper_formula(l2_norm):
    s, t = embeddings(seed=1)
    cs, ct = cosines(rows(s, l2_norm)), cosines(rows(t, l2_norm))
    n = len(cs)
    expected = sum(huber(cs[j][i][k], ct[j][i][k]) for i in range(n)
                   for j in range(n) for k in range(n)) / n**3
    loss = build('AngleWiseRKD', with_l2_norm=l2_norm, loss_weight=1.0)(s, t)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize('type_', ['DistanceWiseRKD', 'AngleWiseRKD'])
@pytest.mark.parametrize('detach', [True, False])
def test_gradients_follow_teacher_detach(type_, detach):
    s, t = embeddings(seed=2)
    s.requires_grad_()
    t.requires_grad_()
    build(type_, teacher_detach=detach)(s, t).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert (t.grad is None) == detach


@pytest.mark.parametrize('type_', ['DistanceWiseRKD', 'AngleWiseRKD'])
def test_errors(type_):
    with pytest.raises(ValueError, match=r'\(4, 3\).*\(3, 3\)'):
        build(type_)(torch.randn(4, 3), torch.randn(3, 3))
    with pytest.raises(ValueError, match='at least 2 samples'):
        build(type_)(torch.randn(1, 3), torch.randn(1, 3))
    with pytest.raises(ValueError, match=f"{type_}: `loss_weight`.*'a'"):
        build(type_, loss_weight='a')
