# Copyright (c) OpenMMLab. All rights reserved.
import math

import pytest
import torch
from mmcls.structures import ClsDataSample

from mmrazor.registry import MODELS


def build(**kwargs):
    cfg = dict(type='mmrazor.CRDLoss', temperature=0.5, neg_num=3,
               sample_n=6, dim_out=2, momentum=0.25)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def nce_by_hand(feats, bank, contrast, temperature, k, n, eps):
    scores = [[math.exp(sum(a * b for a, b in zip(bank[j], f)) /
                        temperature) for j in row]
              for f, row in zip(feats, contrast)]
    z = sum(sum(r) for r in scores) / (len(scores) * (k + 1)) * n
    total = 0.0
    for row in scores:
        probs = [s / z for s in row]
        total += math.log(probs[0] / (probs[0] + k / n + eps))
        total += sum(math.log((k / n) / (p + k / n + eps))
                     for p in probs[1:])
    return -total / len(scores)


def test_crd_matches_nce_formula_and_updates_memory():
    loss_fn = build(loss_weight=2.0)
    bank_s = loss_fn.memory_s.double().tolist()
    bank_t = loss_fn.memory_t.double().tolist()
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(2, 2, generator=gen, dtype=torch.float64)
    t = torch.randn(2, 2, generator=gen, dtype=torch.float64)
    contrast = [[4, 0, 1, 5], [1, 2, 3, 3]]
    samples = [
        ClsDataSample(metainfo=dict(sample_idx=row[0]))
        for row in contrast
    ]
    for sample, row in zip(samples, contrast):
        sample.contrast_sample_idxs = torch.tensor(row)
    expected = (nce_by_hand(s.tolist(), bank_t, contrast, 0.5, 3, 6, 1e-7) +
                nce_by_hand(t.tolist(), bank_s, contrast, 0.5, 3, 6, 1e-7))
    loss = loss_fn(s, t, samples)
    assert loss.item() == pytest.approx(2 * expected, rel=1e-5)
    for bank, old, feats in ((loss_fn.memory_s, bank_s, s),
                             (loss_fn.memory_t, bank_t, t)):
        for i, row in enumerate((4, 1)):
            mixed = [0.25 * a + 0.75 * b
                     for a, b in zip(old[row], feats[i].tolist())]
            norm = math.sqrt(sum(v * v for v in mixed))
            assert bank[row].tolist() == pytest.approx(
                [v / norm for v in mixed], rel=1e-5)
        assert bank[0].tolist() == pytest.approx(old[0], rel=1e-6)


def test_crd_draws_negatives_and_trains_both_heads():
    loss_fn = build()
    s = torch.randn(3, 2, requires_grad=True)
    t = torch.randn(3, 2, requires_grad=True)
    loss = loss_fn(s, t, torch.tensor([0, 2, 5]))
    loss.backward()
    assert torch.isfinite(loss)
    assert s.grad.abs().sum() > 0 and t.grad.abs().sum() > 0
    assert loss_fn.z_s > 0 and loss_fn.z_t > 0


def test_crd_errors():
    with pytest.raises(ValueError, match=r'CRDLoss: `neg_num`.*0'):
        build(neg_num=0)
    with pytest.raises(ValueError, match=r'CRDLoss: `momentum`.*1.5'):
        build(momentum=1.5)
    with pytest.raises(ValueError, match=r'CRDLoss: `temperature`.*0'):
        build(temperature=0)
    with pytest.raises(ValueError, match=r's_feats \(2, 2\).*\(2, 3\)'):
        build()(torch.randn(2, 2), torch.randn(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'dim_out=2.*\(2, 3\)'):
        build()(torch.randn(2, 3), torch.randn(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'sample_n=6.*\[0, 9\]'):
        build()(torch.randn(2, 2), torch.randn(2, 2), torch.tensor([0, 9]))
