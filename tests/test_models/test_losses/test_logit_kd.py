# Copyright (c) OpenMMLab. All rights reserved.
import math

import pytest
import torch
from mmcls.structures import ClsDataSample

from mmrazor.registry import MODELS


def build(type_, **kwargs):
    return MODELS.build(dict(type=f'mmrazor.{type_}', **kwargs))


def softmax_row(row, tau):
    exps = [math.exp(v / tau) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def logits(seed=0, n=3, c=4):
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(n, c, generator=gen, dtype=torch.float64)
    t = torch.randn(n, c, generator=gen, dtype=torch.float64)
    return s, t


def kl_by_hand(s, t, tau):
    """Per element tau^2 * p_t * (log p_t - log p_s), as nested lists."""
    out = []
    for row_s, row_t in zip(s.tolist(), t.tolist()):
        p_s, p_t = softmax_row(row_s, tau), softmax_row(row_t, tau)
        out.append([
            tau**2 * pt * (math.log(pt) - math.log(ps))
            for ps, pt in zip(p_s, p_t)
        ])
    return out


@pytest.mark.parametrize('reduction', ['batchmean', 'sum', 'mean', 'none'])
def test_kl_divergence_matches_hinton_formula(reduction):
    s, t = logits()
    loss = build('KLDivergence', tau=2.0, reduction=reduction,
                 loss_weight=0.5)(s, t)
    elems = kl_by_hand(s, t, 2.0)
    total = sum(sum(r) for r in elems)
    expected = {
        'batchmean': total / 3,
        'sum': total,
        'mean': total / 12,
    }.get(reduction)
    if reduction == 'none':
        assert torch.allclose(loss, 0.5 * torch.tensor(elems,
                                                       dtype=s.dtype))
    else:
        assert loss.item() == pytest.approx(0.5 * expected, rel=1e-9)


def test_kl_divergence_zero_for_identical_logits():
    s, _ = logits()
    assert build('KLDivergence', tau=3.0)(s, s.clone()).item() == \
        pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize('type_', ['KLDivergence', 'KDSoftCELoss'])
@pytest.mark.parametrize('detach', [True, False])
def test_logit_losses_gradient_follows_teacher_detach(type_, detach):
    s, t = logits()
    s.requires_grad_()
    t.requires_grad_()
    build(type_, tau=2.0, teacher_detach=detach)(s, t).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert (t.grad is None) == detach


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_kd_soft_ce_matches_cross_entropy_by_hand(reduction):
    s, t = logits(seed=1)
    tau = 3.0
    per_sample = []
    for row_s, row_t in zip(s.tolist(), t.tolist()):
        p_s, p_t = softmax_row(row_s, tau), softmax_row(row_t, tau)
        per_sample.append(-sum(pt * math.log(ps)
                               for ps, pt in zip(p_s, p_t)) * tau**2)
    loss = build('KDSoftCELoss', tau=tau, reduction=reduction,
                 loss_weight=2.0)(s, t)
    if reduction == 'none':
        assert torch.allclose(loss, 2 * torch.tensor(per_sample,
                                                     dtype=s.dtype))
    else:
        expected = sum(per_sample) / (3 if reduction == 'mean' else 1)
        assert loss.item() == pytest.approx(2 * expected, rel=1e-9)


def test_kd_soft_ce_weight_avg_factor_and_no_temperature_square():
    s, t = logits(seed=2)
    w = torch.tensor([1.0, 0.0, 2.0], dtype=s.dtype)
    per_sample = []
    for row_s, row_t in zip(s.tolist(), t.tolist()):
        p_s, p_t = softmax_row(row_s, 2.0), softmax_row(row_t, 2.0)
        per_sample.append(-sum(pt * math.log(ps)
                               for ps, pt in zip(p_s, p_t)))
    expected = (per_sample[0] + 2 * per_sample[2]) / 5.0
    loss = build('KDSoftCELoss', tau=2.0, mult_tem_square=False)(
        s, t, weight=w, avg_factor=5.0)
    assert loss.item() == pytest.approx(expected, rel=1e-9)
    summed = build('KDSoftCELoss', tau=2.0, mult_tem_square=False)(
        s, t, reduction_override='sum')
    assert summed.item() == pytest.approx(sum(per_sample), rel=1e-9)


def wsld_by_hand(s, t, labels, tau):
    total = 0.0
    for row_s, row_t, y in zip(s.tolist(), t.tolist(), labels):
        p_s, p_t = softmax_row(row_s, tau), softmax_row(row_t, tau)
        soft_ce = -sum(pt * math.log(ps) for ps, pt in zip(p_s, p_t))
        ce_s = -math.log(softmax_row(row_s, 1.0)[y])
        ce_t = -math.log(softmax_row(row_t, 1.0)[y])
        weight = 1 - math.exp(-max(0.0, ce_s / ce_t))
        total += weight * soft_ce
    return tau**2 * total / len(labels)


def test_wsld_matches_weighted_soft_labels_formula():
    s, t = logits(seed=3)
    labels = [0, 3, 1]
    loss_fn = build('WSLD', tau=2.0, num_classes=4, loss_weight=1.5)
    expected = 1.5 * wsld_by_hand(s, t, labels, 2.0)
    assert loss_fn(s, t, torch.tensor(labels)).item() == pytest.approx(
        expected, rel=1e-6)
    samples = [ClsDataSample().set_gt_label(y) for y in labels]
    assert loss_fn(s, t, samples).item() == pytest.approx(expected, rel=1e-6)


def test_wsld_gradient_and_errors():
    s, t = logits(seed=4)
    s.requires_grad_()
    t.requires_grad_()
    build('WSLD', num_classes=4)(s, t, torch.tensor([0, 1, 2])).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
    with pytest.raises(ValueError, match=r'num_classes=10.*\(3, 4\)'):
        build('WSLD', num_classes=10)(s, t, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match='one label per sample'):
        build('WSLD', num_classes=4)(s, t, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='num_classes'):
        build('WSLD', num_classes=0)


@pytest.mark.parametrize('type_,kwargs,field', [
    ('KLDivergence', dict(tau=0), 'tau'),
    ('KLDivergence', dict(tau=-1.0), 'tau'),
    ('KLDivergence', dict(reduction='avg'), 'reduction'),
    ('KLDivergence', dict(loss_weight='1'), 'loss_weight'),
    ('KDSoftCELoss', dict(reduction='batchmean'), 'reduction'),
    ('KDSoftCELoss', dict(tau=0.0), 'tau'),
    ('WSLD', dict(tau=0), 'tau'),
])
def test_argument_errors_name_field_value_and_allowed(type_, kwargs, field):
    with pytest.raises(ValueError, match=f'{type_}: `{field}`') as err:
        build(type_, **kwargs)
    assert repr(next(iter(kwargs.values()))) in str(err.value)


def test_allowed_reductions_are_listed():
    with pytest.raises(ValueError, match=r"\['none', 'batchmean', 'sum'"):
        build('KLDivergence', reduction='avg')


@pytest.mark.parametrize('type_', ['KLDivergence', 'KDSoftCELoss'])
def test_shape_mismatch_names_both_shapes(type_):
    with pytest.raises(ValueError, match=r'\(2, 5\).*\(2, 6\)'):
        build(type_)(torch.randn(2, 5), torch.randn(2, 6))
