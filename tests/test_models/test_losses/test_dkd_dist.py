# Copyright (c) OpenMMLab. All rights reserved.
import math

import pytest
import torch
from mmcls.structures import ClsDataSample

from mmrazor.registry import MODELS


def build(type_, **kwargs):
    return MODELS.build(dict(type=f'mmrazor.{type_}', **kwargs))


def softmax(values, tau=1.0):
    exps = [math.exp(v / tau) for v in values]
    return [e / sum(exps) for e in exps]


def kl(p_t, p_s):
    return sum(a * (math.log(a) - math.log(b)) for a, b in zip(p_t, p_s))


def logits(seed=0, n=3, c=5):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(n, c, generator=gen, dtype=torch.float64),
            torch.randn(n, c, generator=gen, dtype=torch.float64))


def dkd_by_hand(s, t, labels, tau, alpha, beta):
    """Per-sample (tckd, nckd) from the paper's definitions."""
    out = []
    for row_s, row_t, y in zip(s.tolist(), t.tolist(), labels):
        p_s, p_t = softmax(row_s, tau), softmax(row_t, tau)
        b_s, b_t = [p_s[y], 1 - p_s[y]], [p_t[y], 1 - p_t[y]]
        rest_s = [v for i, v in enumerate(row_s) if i != y]
        rest_t = [v for i, v in enumerate(row_t) if i != y]
        out.append((kl(b_t, b_s), kl(softmax(rest_t, tau),
                                     softmax(rest_s, tau))))
    return out


@pytest.mark.parametrize('reduction', ['batchmean', 'sum', 'mean', 'none'])
def test_dkd_matches_decoupled_formula(reduction):
    s, t = logits()
    labels = [2, 0, 4]
    tau, alpha, beta = 2.0, 0.5, 3.0
    parts = dkd_by_hand(s, t, labels, tau, alpha, beta)
    per_sample = [tau**2 * (alpha * a + beta * b) for a, b in parts]
    loss = build('DKDLoss', tau=tau, alpha=alpha, beta=beta,
                 reduction=reduction, loss_weight=2.0)(s, t,
                                                       torch.tensor(labels))
    if reduction == 'none':
        assert torch.allclose(loss, 2 * torch.tensor(per_sample,
                                                     dtype=s.dtype))
        return
    if reduction == 'mean':
        expected = tau**2 * (alpha * sum(a for a, _ in parts) / 6 +
                             beta * sum(b for _, b in parts) / 12)
    else:
        expected = sum(per_sample) / (3 if reduction == 'batchmean' else 1)
    assert loss.item() == pytest.approx(2 * expected, rel=1e-9)


def test_dkd_with_unit_weights_equals_kd_plus_target_shift():
    """DKD's identity: KD = TCKD + (1 - p_t^T) NCKD (paper, Eq. 7)."""
    s, t = logits(seed=5)
    labels = [1, 1, 3]
    tau = 1.0
    parts = dkd_by_hand(s, t, labels, tau, 1, 1)
    for (tckd, nckd), row_s, row_t, y in zip(parts, s.tolist(), t.tolist(),
                                             labels):
        kd = kl(softmax(row_t), softmax(row_s))
        assert kd == pytest.approx(tckd + (1 - softmax(row_t)[y]) * nckd)


def test_dkd_reads_data_samples_and_gradients():
    s, t = logits(seed=1)
    s.requires_grad_()
    t.requires_grad_()
    labels = [4, 1, 0]
    samples = [ClsDataSample().set_gt_label(y) for y in labels]
    loss_fn = build('DKDLoss')
    loss = loss_fn(s, t, samples)
    assert loss.item() == pytest.approx(
        loss_fn(s, t, torch.tensor(labels)).item())
    loss.backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
    s.grad = None
    build('DKDLoss', teacher_detach=False)(s, t, samples).backward()
    assert t.grad is not None and s.grad is not None


def test_dkd_errors():
    with pytest.raises(ValueError, match=r"DKDLoss: `reduction`.*'avg'"):
        build('DKDLoss', reduction='avg')
    with pytest.raises(ValueError, match=r'DKDLoss: `beta`.*-1'):
        build('DKDLoss', beta=-1)
    with pytest.raises(ValueError, match=r'\(2, 5\).*\(2, 4\)'):
        build('DKDLoss')(torch.randn(2, 5), torch.randn(2, 4),
                         torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='one label per sample'):
        build('DKDLoss')(torch.randn(2, 5), torch.randn(2, 5),
                         torch.tensor([0]))


def pearson(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    den = math.sqrt(sum((x - ma)**2 for x in a)) * math.sqrt(
        sum((y - mb)**2 for y in b))
    return num / den


def test_dist_matches_pearson_relations():
    s, t = logits(seed=2, n=4, c=5)
    tau, beta, gamma = 2.0, 0.7, 1.3
    y_s = [softmax(r, tau) for r in s.tolist()]
    y_t = [softmax(r, tau) for r in t.tolist()]
    inter = 1 - sum(pearson(a, b) for a, b in zip(y_s, y_t)) / 4
    cols_s, cols_t = list(zip(*y_s)), list(zip(*y_t))
    intra = 1 - sum(pearson(a, b) for a, b in zip(cols_s, cols_t)) / 5
    expected = 0.5 * tau**2 * (beta * inter + gamma * intra)
    loss = build('DISTLoss', inter_loss_weight=beta, intra_loss_weight=gamma,
                 tau=tau, loss_weight=0.5)(s, t)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize('detach', [True, False])
def test_dist_gradients_and_errors(detach):
    s, t = logits(seed=3)
    s.requires_grad_()
    t.requires_grad_()
    build('DISTLoss', teacher_detach=detach)(s, t).backward()
    assert s.grad.abs().sum() > 0
    assert (t.grad is None) == detach
    with pytest.raises(ValueError, match=r'DISTLoss: `tau`.*0'):
        build('DISTLoss', tau=0)
    with pytest.raises(ValueError, match=r'logits_S \(3, 5\).*\(3, 4\)'):
        build('DISTLoss')(torch.randn(3, 5), torch.randn(3, 4))
