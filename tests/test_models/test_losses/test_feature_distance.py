# Copyright (c) OpenMMLab. All rights reserved.
import itertools
import math

import pytest
import torch

from mmrazor.registry import MODELS


def build(type_, **kwargs):
    return MODELS.build(dict(type=f'mmrazor.{type_}', **kwargs))


def feats(shape=(2, 3, 2, 2), seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=gen, dtype=torch.float64),
            torch.randn(*shape, generator=gen, dtype=torch.float64))


def flat_samples(x):
    return [x[i].reshape(-1).tolist() for i in range(x.shape[0])]


@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_l1_matches_mean_absolute_error(reduction):
    s, t = feats()
    total = sum(abs(a - b) for a, b in zip(s.reshape(-1).tolist(),
                                           t.reshape(-1).tolist()))
    expected = total / s.numel() if reduction == 'mean' else total
    loss = build('L1Loss', reduction=reduction, loss_weight=2.0)(s, t)
    assert loss.item() == pytest.approx(2 * expected, rel=1e-9)


def test_l1_legacy_size_average_and_reduce():
    s, t = feats()
    assert build('L1Loss', size_average=False).reduction == 'sum'
    assert build('L1Loss', reduce=False).reduction == 'none'
    assert build('L1Loss', reduce=False)(s, t).shape == s.shape


@pytest.mark.parametrize('normalize,mult,div_element,dist', [
    (True, 1.0, False, False), (True, 2.0, True, False),
    (False, 1.0, False, False), (False, 1.0, False, True)
])
def test_l2_matches_fitnets_hint_formula(normalize, mult, div_element, dist):
    s, t = feats(seed=1)
    rows_s, rows_t = flat_samples(s), flat_samples(t)
    if normalize:
        rows_s = [[mult * v / math.sqrt(sum(x * x for x in r)) for v in r]
                  for r in rows_s]
        rows_t = [[mult * v / math.sqrt(sum(x * x for x in r)) for v in r]
                  for r in rows_t]
    total = sum((a - b)**2 for ra, rb in zip(rows_s, rows_t)
                for a, b in zip(ra, rb))
    if dist:
        expected = math.sqrt(total)
    elif div_element:
        expected = total / s.numel()
    else:
        expected = total / 2
    loss = build('L2Loss', normalize=normalize, mult=mult,
                 div_element=div_element, dist=dist, loss_weight=3.0)(s, t)
    assert loss.item() == pytest.approx(3 * expected, rel=1e-9)


def standardize_by_hand(x):
    n, c, h, w = x.shape
    out = torch.empty_like(x)
    for ch in range(c):
        vals = [x[i, ch, a, b].item() for i in range(n) for a in range(h)
                for b in range(w)]
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean)**2 for v in vals) / (len(vals) - 1))
        for i, a, b in itertools.product(range(n), range(h), range(w)):
            out[i, ch, a, b] = (x[i, ch, a, b] - mean) / (std + 1e-6)
    return out


def test_pkd_matches_pearson_formula_and_sums_levels():
    s, t = feats(seed=2)
    ns, nt = standardize_by_hand(s), standardize_by_hand(t)
    one = sum((a - b)**2 for a, b in zip(ns.reshape(-1).tolist(),
                                         nt.reshape(-1).tolist()))
    one = one / s.numel() / 2
    assert build('PKDLoss')(s, t).item() == pytest.approx(one, rel=1e-6)
    two = build('PKDLoss', loss_weight=0.5)([s, s], [t, t])
    assert two.item() == pytest.approx(one, rel=1e-6)
    # 1 - r per channel: identical features up to scale give zero loss.
    assert build('PKDLoss')(s, 3 * s + 1).item() == pytest.approx(
        0.0, abs=1e-9)


def test_pkd_resizes_spatial_size():
    s, _ = feats(shape=(2, 3, 2, 2))
    _, t = feats(shape=(2, 3, 4, 4))
    assert torch.isfinite(build('PKDLoss')(s, t))
    assert torch.isfinite(build('PKDLoss', resize_stu=False)(s, t))
    with pytest.raises(ValueError, match=r'\(2, 3, 2, 2\).*\(2, 4, 2, 2\)'):
        build('PKDLoss')(s, torch.randn(2, 4, 2, 2, dtype=s.dtype))
    with pytest.raises(ValueError, match='same number of features, got 2 '
                       'and 1'):
        build('PKDLoss')([s, s], [t])


def test_mgd_matches_sum_of_squares_over_batch():
    s, t = feats(seed=3)
    total = sum((a - b)**2 for a, b in zip(s.reshape(-1).tolist(),
                                           t.reshape(-1).tolist()))
    loss = build('MGDLoss', alpha_mgd=0.5)(s, t)
    assert loss.item() == pytest.approx(0.5 * total / 2, rel=1e-9)


def test_ofd_matches_partial_l2():
    s, t = feats(seed=4)
    total = 0.0
    for a, b in zip(s.reshape(-1).tolist(), t.reshape(-1).tolist()):
        if a > b or b > 0:
            total += (a - b)**2
    loss = build('OFDLoss', mul_factor=10.0, loss_weight=2.0)(s, t)
    assert loss.item() == pytest.approx(2 * total / 2 / 10.0, rel=1e-9)


@pytest.mark.parametrize('type_', ['L1Loss', 'L2Loss', 'PKDLoss', 'MGDLoss',
                                   'OFDLoss'])
@pytest.mark.parametrize('detach', [True, False])
def test_gradients_follow_teacher_detach(type_, detach):
    s, t = feats(seed=5)
    s.requires_grad_()
    t.requires_grad_()
    build(type_, teacher_detach=detach)(s, t).backward()
    assert s.grad.abs().sum() > 0
    assert (t.grad is None) == detach


@pytest.mark.parametrize('type_,names', [
    ('L1Loss', 's_feature'), ('L2Loss', 's_feature'),
    ('MGDLoss', 'preds_S'), ('OFDLoss', 's_feature')
])
def test_shape_mismatch_names_both_shapes(type_, names):
    with pytest.raises(ValueError,
                       match=rf'{type_}: .*{names} \(2, 3\).*\(2, 4\)'):
        build(type_)(torch.randn(2, 3), torch.randn(2, 4))


@pytest.mark.parametrize('type_,kwargs,field', [
    ('L1Loss', dict(reduction='batchmean'), 'reduction'),
    ('L2Loss', dict(mult=0), 'mult'),
    ('MGDLoss', dict(alpha_mgd=-1.0), 'alpha_mgd'),
    ('OFDLoss', dict(mul_factor=0), 'mul_factor'),
    ('PKDLoss', dict(loss_weight=None), 'loss_weight'),
])
def test_argument_errors(type_, kwargs, field):
    with pytest.raises(ValueError, match=f'{type_}: `{field}`') as err:
        build(type_, **kwargs)
    assert repr(next(iter(kwargs.values()))) in str(err.value)
