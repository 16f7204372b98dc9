# Copyright (c) OpenMMLab. All rights reserved.
import math

import pytest
import torch
import torch.nn as nn

from mmrazor.registry import MODELS


def _hand_margin(std, mean):
    """E[x | x < 0] for x ~ N(mean, std^2), by the textbook formula."""
    a = mean / std
    pdf = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    cdf_neg = 0.5 * math.erfc(a / math.sqrt(2))  # P(z < -a)
    return mean - std * pdf / cdf_neg


def test_margin_matches_hand_computation():
    connector = MODELS.build(dict(type='mmrazor.OFDTeacherConnector'))
    std = torch.tensor([1., 2., 0.5, 3.])
    mean = torch.tensor([0., 1., -1., 2.])
    connector.init_margin(std, mean)
    expected = [_hand_margin(s, m) for s, m in zip(std.tolist(),
                                                   mean.tolist())]
    assert connector.margin.shape == (1, 4, 1, 1)
    assert torch.allclose(connector.margin.flatten(), torch.tensor(expected))
    # N(0, 1): E[x | x < 0] = -sqrt(2 / pi).
    assert connector.margin[0, 0, 0, 0].item() == pytest.approx(
        -math.sqrt(2 / math.pi), abs=1e-6)
    # N(1, 2^2): pdf(0.5) / cdf(-0.5) = 0.352065 / 0.308538.
    assert connector.margin[0, 1, 0, 0].item() == pytest.approx(
        1 - 2 * 0.352065 / 0.308538, abs=1e-5)


def test_margin_matches_numerical_integral_and_is_stable():
    connector = MODELS.build(dict(type='mmrazor.OFDTeacherConnector'))
    connector.init_margin(torch.tensor([1.5, 1.]), torch.tensor([0.7, 40.]))
    x = torch.linspace(-20, 0, 200001, dtype=torch.float64)
    pdf = torch.exp(-0.5 * ((x - 0.7) / 1.5)**2)
    integral = torch.trapezoid(x * pdf, x) / torch.trapezoid(pdf, x)
    assert connector.margin[0, 0, 0, 0].item() == pytest.approx(
        integral.item(), abs=1e-4)
    # A far-away negative tail: finite, about -std^2 / mean.
    tail = connector.margin[0, 1, 0, 0].item()
    assert math.isfinite(tail) and tail == pytest.approx(-1 / 40, rel=0.01)


def test_margin_relu_forward_and_bn_stats():
    bn = nn.BatchNorm2d(3)
    bn.weight.data = torch.tensor([1., -2., 0.5])  # |weight| is the std
    bn.bias.data = torch.tensor([0., 1., -1.])
    connector = MODELS.build(dict(type='mmrazor.OFDTeacherConnector'))
    connector.init_margin_from_bn(bn)
    margin = torch.tensor([_hand_margin(1., 0.), _hand_margin(2., 1.),
                           _hand_margin(0.5, -1.)])
    x = torch.randn(2, 3, 6, 6) * 3
    expected = torch.maximum(x, margin.view(1, 3, 1, 1))
    assert torch.allclose(connector(x), expected, atol=1e-6)
    assert 'margin' in connector.state_dict()


def test_errors():
    connector = MODELS.build(dict(type='mmrazor.OFDTeacherConnector'))
    with pytest.raises(RuntimeError, match='init_margin'):
        connector(torch.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r'\(3,\) and \(2,\)'):
        connector.init_margin(torch.ones(3), torch.ones(2))
    with pytest.raises(TypeError, match='Conv2d'):
        connector.init_margin_from_bn(nn.Conv2d(3, 3, 1))
    connector.init_margin(torch.ones(3), torch.zeros(3))
    with pytest.raises(ValueError, match='3 channels.*4'):
        connector(torch.randn(2, 4, 4, 4))
