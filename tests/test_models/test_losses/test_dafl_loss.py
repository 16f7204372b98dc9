# Copyright (c) OpenMMLab. All rights reserved.
import math

import pytest
import torch

from mmrazor.registry import MODELS


def build(type_, **kwargs):
    return MODELS.build(dict(type=f'mmrazor.{type_}', **kwargs))


def logits(seed=0, n=3, c=4):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=gen, dtype=torch.float64)


def softmax(row):
    exps = [math.exp(v) for v in row]
    return [e / sum(exps) for e in exps]


def test_onehot_like_is_cross_entropy_to_own_argmax():
    z = logits()
    expected = 0.0
    for row in z.tolist():
        p = softmax(row)
        expected += -math.log(max(p))
    loss = build('OnehotLikeLoss', loss_weight=2.0)(z)
    assert loss.item() == pytest.approx(2 * expected / 3, rel=1e-9)


def test_information_entropy_is_negative_entropy_of_mean_prob():
    z = logits(seed=1)
    probs = [softmax(r) for r in z.tolist()]
    mean = [sum(col) / 3 for col in zip(*probs)]
    expected = sum(p * math.log10(p) for p in mean)
    loss = build('InformationEntropyLoss', loss_weight=0.5)(z)
    assert loss.item() == pytest.approx(0.5 * expected, rel=1e-9)
    # Uniform mean prediction is the minimum, -log10(C).
    flat = build('InformationEntropyLoss')(torch.zeros(2, 4))
    assert flat.item() == pytest.approx(-math.log10(4))


@pytest.mark.parametrize('norm_type', ['abs', 'norm'])
def test_activation_loss(norm_type):
    f = logits(seed=2).reshape(3, 2, 2)
    vals = f.reshape(-1).tolist()
    if norm_type == 'abs':
        expected = -sum(abs(v) for v in vals) / len(vals)
    else:
        expected = -math.sqrt(sum(v * v for v in vals))
    loss = build('ActivationLoss', norm_type=norm_type, loss_weight=0.1)(f)
    assert loss.item() == pytest.approx(0.1 * expected, rel=1e-9)


@pytest.mark.parametrize('type_', ['OnehotLikeLoss', 'InformationEntropyLoss',
                                   'ActivationLoss'])
def test_gradient_reaches_generated_input(type_):
    z = logits(seed=3).requires_grad_()
    build(type_)(z).backward()
    assert z.grad.abs().sum() > 0


def test_errors():
    with pytest.raises(ValueError,
                       match=r"ActivationLoss: `norm_type` must be one of "
                       r"\['abs', 'norm'\], but got 'l2'"):
        build('ActivationLoss', norm_type='l2')
    with pytest.raises(ValueError, match="OnehotLikeLoss: `loss_weight`"):
        build('OnehotLikeLoss', loss_weight=None)
