# Copyright (c) OpenMMLab. All rights reserved.
"""LSQ: observer initialisation and one step against the paper's formula.

Esser et al., "Learned Step Size Quantization" (ICLR 2020), eq. 3: with
``v`` the input, ``s`` the step size and ``[-Qn, Qp]`` the integer grid,
``d v_hat / d s`` is ``-v/s + round(v/s)`` inside the grid, ``-Qn`` below
and ``Qp`` above; the step-size gradient is scaled by
``g = 1 / sqrt(N * Qp)`` (section 2.2).
"""
import math

import pytest
import torch

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

from mmrazor.models.fake_quants import (  # noqa: E402
    LearnableFakeQuantize,
    enable_param_learning,
    enable_static_estimate,
    enable_val,
)
from mmrazor.models.observers import (  # noqa: E402
    LSQObserver,
    LSQPerChannelObserver,
)
from mmrazor.registry import MODELS  # noqa: E402


def lfq(per_channel=False, qmin=-127, qmax=127):
    observer = LSQPerChannelObserver if per_channel else LSQObserver
    return LearnableFakeQuantize(
        observer=observer,
        quant_min=qmin,
        quant_max=qmax,
        dtype=torch.int8,
        qscheme=(torch.per_channel_symmetric
                 if per_channel else torch.per_tensor_symmetric))


def test_registered_under_original_names():
    for name in ('LearnableFakeQuantize', 'LSQObserver',
                 'LSQPerChannelObserver', 'FakeQuantize',
                 'FusedMovingAvgObsFakeQuantize', 'MinMaxObserver',
                 'MovingAverageMinMaxObserver', 'PerChannelMinMaxObserver',
                 'MovingAveragePerChannelMinMaxObserver',
                 'HistogramObserver'):
        assert MODELS.get(name) is not None, name


def test_observer_initialises_the_step_size():
    x = torch.randn(4, 8) * 3
    fq = lfq()
    fq.apply(enable_static_estimate)
    fq(x)
    expected = 2 * x.abs().mean() / math.sqrt(127)
    assert torch.allclose(fq.scale, expected.reshape(1))
    per_channel = lfq(per_channel=True)
    per_channel.apply(enable_static_estimate)
    w = torch.randn(6, 3, 3, 3)
    per_channel(w)
    expected = 2 * w.abs().flatten(1).mean(1) / math.sqrt(127)
    assert per_channel.scale.shape == (6, )
    assert torch.allclose(per_channel.scale, expected)


def test_one_lsq_step_matches_the_paper():
    torch.manual_seed(0)
    fq = lfq(qmin=-8, qmax=7)
    fq.apply(enable_static_estimate)
    x = torch.randn(64) * 2
    fq(x)
    scale = fq.scale.detach().clone()
    fq.apply(enable_param_learning)
    out = fq(x)
    upstream = torch.randn_like(out)
    (out * upstream).sum().backward()

    v = x / scale
    inside = (v > -8) & (v < 7)
    d_vhat_ds = torch.where(inside, torch.round(v) - v,
                            torch.where(v <= -8, torch.tensor(-8.),
                                        torch.tensor(7.)))
    g = 1 / math.sqrt(x.numel() * 7)
    expected = (upstream * d_vhat_ds).sum() * g
    assert torch.allclose(fq.scale.grad, expected.reshape(1), atol=1e-5)
    # forward: v_hat = clip(round(v), -Qn, Qp) * s
    assert torch.allclose(out, torch.clamp(torch.round(v), -8, 7) * scale)
    # an SGD step moves the step size by -lr * grad
    optim = torch.optim.SGD([fq.scale], lr=0.1)
    optim.step()
    assert torch.allclose(fq.scale, scale - 0.1 * expected.reshape(1))


def test_no_gradient_while_estimating_and_identity_kept():
    fq = lfq(per_channel=True)
    param = fq.scale
    assert param.requires_grad
    fq.apply(enable_static_estimate)
    w = torch.randn(4, 2, requires_grad=True)
    fq(w).sum().backward()
    assert fq.scale is param and fq.scale.grad is None
    assert w.grad is not None
    fq.apply(enable_val)
    assert fq.observer_enabled.item() == 0 and fq.learning_enabled.item() == 0


def test_state_dict_round_trip_keeps_initialisation():
    fq = lfq(per_channel=True)
    fq.apply(enable_static_estimate)
    fq(torch.randn(5, 3))
    state = fq.state_dict()
    fresh = lfq(per_channel=True)
    fresh.load_state_dict(state)
    assert fresh._initialized and fresh.scale.shape == (5, )
    assert torch.equal(fresh.scale, fq.scale)
    fresh.apply(enable_val)
    x = torch.randn(5, 3)
    assert torch.equal(fresh(x), fq.apply(enable_val)(x))
