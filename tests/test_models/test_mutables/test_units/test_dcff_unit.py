# Copyright (c) OpenMMLab. All rights reserved.
"""DCFFChannelUnit: filter fusion checked against a hand computation."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmrazor.models.architectures.dynamic_ops import FuseConv2d
from mmrazor.models.mutables import DCFFChannelUnit
from mmrazor.models.mutables.mutable_channel.units.dcff_unit import (
    dcff_fusion,
    dcff_temperature,
)
from mmrazor.models.utils import export_static_model
from mmrazor.registry import MODELS

from ...test_mutators._channel_net import TinyChannelNet, tiny_units

CONV3_UNIT = 'conv3_(0, 16)_16'
CONV1_UNIT = 'conv1_(0, 8)_8'


def _prepared():
    torch.manual_seed(0)
    net = TinyChannelNet().eval()
    mutator = MODELS.build(
        dict(
            type='ChannelMutator',
            channel_unit_cfg=dict(
                type='DCFFChannelUnit',
                default_args=dict(choice_mode='ratio'),
                units=tiny_units()),
            parse_cfg=dict(type='Config')))
    mutator.prepare_from_supernet(net)
    return net, {u.name: u for u in mutator.units}


def _by_hand(weight: torch.Tensor, bias: torch.Tensor, keep: int,
             t: float):
    """The paper's definitions, written out with loops."""
    w = weight.double().flatten(1)
    c = w.shape[0]
    p = torch.zeros(c, c, dtype=torch.float64)
    for k in range(c):
        logits = [-torch.dist(w[k], w[j]).item() * t for j in range(c)]
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        for j in range(c):
            p[k, j] = exps[j] / sum(exps)
    importance = []
    for k in range(c):
        kl = 0.0
        for j in range(c):
            kl += sum(p[k, i] * (math.log(p[k, i]) - math.log(p[j, i]))
                      for i in range(c))
        importance.append(kl / c)
    kept = sorted(range(c), key=lambda k: -importance[k])[:keep]
    kept.sort()
    fused_w = (p[kept] @ w).view(keep, *weight.shape[1:])
    fused_b = p[kept] @ bias.double()
    return kept, fused_w.float(), fused_b.float()


def test_fused_weights_equal_hand_computation():
    net, units = _prepared()
    unit = units[CONV3_UNIT]
    assert isinstance(net.conv3, FuseConv2d)
    assert unit.fused_convs == [net.conv3]
    # the depthwise conv2 keeps plain channels; conv1 is fused
    assert not isinstance(net.conv2, FuseConv2d)
    assert isinstance(net.conv1, FuseConv2d)
    unit.current_choice = 0.25
    x = torch.randn(2, 8, 5, 5)
    with torch.no_grad():  # caches the identity fusion's weights
        net.conv3(x)
    kept = unit.update_fusion(temperature=2.0)
    expect_kept, expect_w, expect_b = _by_hand(net.conv3.weight.detach(),
                                               net.conv3.bias.detach(), 4,
                                               2.0)
    assert kept.tolist() == expect_kept
    weight, bias, _ = net.conv3.active_params()
    torch.testing.assert_close(weight, expect_w, atol=1e-6, rtol=0)
    torch.testing.assert_close(bias, expect_b, atol=1e-6, rtol=0)
    for grad in (True, False):  # no stale weights in inference
        with torch.set_grad_enabled(grad):
            torch.testing.assert_close(
                net.conv3(x), F.conv2d(x, expect_w, expect_b), atol=1e-5,
                rtol=0)
    static = export_static_model(net)
    torch.testing.assert_close(static.conv3.weight, expect_w, atol=1e-6,
                               rtol=0)
    assert static.fc.in_features == 4
    image = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        assert (static(image) - net(image)).abs().max() <= 1e-5


def test_identity_before_first_update_and_gradients_reach_all_filters():
    net, units = _prepared()
    unit = units[CONV3_UNIT]
    unit.current_choice = 0.5
    weight, _, _ = net.conv3.active_params()
    torch.testing.assert_close(weight, net.conv3.weight[:8])  # sequential
    unit.update_fusion(temperature=1.0)
    net.train()
    net(torch.randn(2, 3, 6, 6)).sum().backward()
    grad = net.conv3.weight.grad.flatten(1).abs().sum(1)
    assert bool((grad > 0).all())  # all 16 filters feed the 8 fused ones


def test_residual_outputs_share_one_distribution():
    net, units = _prepared()
    unit = units[CONV1_UNIT]
    filters = unit.filters()
    assert filters.shape == (8, 27)
    unit.current_choice = 0.5
    unit.update_fusion(temperature=3.0)
    p, importance = dcff_fusion(filters, 3.0)
    order = importance.argsort(descending=True, stable=True)
    kept = order[:4].sort().values
    torch.testing.assert_close(unit.fusion_matrix,
                               p[torch.cat([kept, order[4:]])].float())


def test_high_temperature_fuses_into_the_filter_itself():
    w = torch.randn(6, 10)
    p, _ = dcff_fusion(w, 1e4)
    torch.testing.assert_close(p, torch.eye(6, dtype=p.dtype), atol=1e-6,
                               rtol=0)
    with pytest.raises(ValueError, match='temperature'):
        dcff_fusion(w, 0.0)


def test_temperature_schedule():
    assert dcff_temperature(0, 9) == pytest.approx(1.0)
    assert dcff_temperature(9, 9) == pytest.approx(1e4)
    values = [dcff_temperature(i, 9) for i in range(10)]
    assert values == sorted(values)
    assert dcff_temperature(0, 0) == 1.0


def test_full_width_is_not_fused():
    net, units = _prepared()
    unit = units[CONV3_UNIT]
    unit.current_choice = 0.5
    unit.update_fusion(temperature=1.0)
    unit.current_choice = 1.0
    assert unit.update_fusion(temperature=1.0).tolist() == list(range(16))
    assert torch.equal(unit.fusion_matrix, torch.eye(16))


def test_fusion_matrix_is_saved():
    unit = DCFFChannelUnit(4)
    assert 'fusion_matrix' in unit.state_dict()
    assert unit.init_args['choice_mode'] == 'ratio'
