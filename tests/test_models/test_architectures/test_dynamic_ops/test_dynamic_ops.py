# Copyright (c) OpenMMLab. All rights reserved.
import copy

import pytest
import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import (
    BigNasConv2d,
    DynamicBatchNorm1d,
    DynamicBatchNorm2d,
    DynamicConv2d,
    DynamicInputResizer,
    DynamicLayerNorm,
    DynamicLinear,
    DynamicSequential,
    DynamicSyncBatchNorm,
    OFAConv2d,
)
from mmrazor.models.mutables import (
    DerivedMutable,
    OneShotMutableChannel,
    OneShotMutableValue,
    SimpleMutableChannel,
    SquentialMutableChannel,
)
from mmrazor.models.utils import export_static_model
from mmrazor.registry import MODELS


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def _check_export(op: nn.Module, x: torch.Tensor, static_type: type):
    op.eval()
    static = op.to_static_op().eval()
    assert type(static) is static_type
    with torch.no_grad():
        assert _max_diff(op(x), static(x)) <= 1e-5
    return static


@pytest.mark.parametrize('cls', [DynamicConv2d, BigNasConv2d, OFAConv2d])
def test_conv_channels(cls):
    conv = MODELS.build(dict(type=cls.__name__, in_channels=8,
                             out_channels=16, kernel_size=3, padding=1))
    conv.register_mutable_attr('in_channels', SquentialMutableChannel(8))
    out_mutable = SimpleMutableChannel(16)
    conv.register_mutable_attr('out_channels', out_mutable)
    conv.get_mutable_attr('in_channels').current_choice = 5
    mask = torch.zeros(16, dtype=torch.bool)
    mask[[0, 3, 7, 15]] = True
    out_mutable.current_choice = mask
    x = torch.randn(2, 5, 9, 9)
    static = _check_export(conv, x, nn.Conv2d)
    assert (static.in_channels, static.out_channels) == (5, 4)
    full = nn.Conv2d(8, 16, 3, padding=1)
    full.load_state_dict(conv.state_dict(), strict=False)
    x_full = torch.zeros(2, 8, 9, 9)
    x_full[:, :5] = x
    with torch.no_grad():
        assert _max_diff(full(x_full)[:, mask], conv(x)) <= 1e-5


def test_conv_rejects_wrong_mutables():
    conv = DynamicConv2d(8, 16, 3)
    with pytest.raises(ValueError, match="'in_channels'.*num_channels=4"):
        conv.register_mutable_attr('in_channels', SquentialMutableChannel(4))
    with pytest.raises(ValueError, match="no mutable attribute 'kernel"):
        conv.register_mutable_attr('kernel_size',
                                   OneShotMutableValue([3, 5]))
    group = DynamicConv2d(8, 16, 3, groups=2)
    with pytest.raises(ValueError, match='grouped convolution'):
        group.register_mutable_attr('in_channels', SquentialMutableChannel(8))
    big = BigNasConv2d(8, 8, 5)
    with pytest.raises(ValueError, match='"same" padding'):
        big.register_mutable_attr('kernel_size', OneShotMutableValue([3, 5]))
    big = BigNasConv2d(8, 8, 5, padding=2)
    with pytest.raises(ValueError, match='odd ints up to 5'):
        big.register_mutable_attr('kernel_size', OneShotMutableValue([4, 5]))


def test_depthwise_follows_one_mask():
    conv = DynamicConv2d(12, 12, 3, padding=1, groups=12)
    channels = OneShotMutableChannel(12, [4, 8, 12])
    conv.register_mutable_attr('in_channels', channels)
    conv.register_mutable_attr('out_channels', channels)
    channels.current_choice = 8
    static = _check_export(conv, torch.randn(1, 8, 5, 5), nn.Conv2d)
    assert static.groups == 8 and static.weight.shape == (8, 1, 3, 3)


@pytest.mark.parametrize('cls', [BigNasConv2d, OFAConv2d])
def test_elastic_kernel(cls):
    conv = cls(6, 6, 7, padding=3, groups=6)
    kernel = OneShotMutableValue([3, 5, 7])
    conv.register_mutable_attr('kernel_size', kernel)
    x = torch.randn(2, 6, 10, 10)
    for k in (7, 5, 3):
        kernel.current_choice = k
        static = _check_export(conv, x, nn.Conv2d)
        assert static.kernel_size == (k, k)
        assert static.padding == (k // 2, ) * 2
    if cls is BigNasConv2d:
        assert torch.equal(static.weight, conv.weight[:, :, 2:5, 2:5])
    else:
        assert sorted(k for k in conv.state_dict() if 'trans' in k) == [
            'trans_matrix_5to3', 'trans_matrix_7to5']
        with torch.no_grad():
            conv.trans_matrix(5, 3).mul_(2.0)
        kernel.current_choice = 3
        weight, _, _ = conv.active_params()
        assert torch.allclose(weight, 2 * conv.weight[:, :, 2:5, 2:5])


def test_ofa_kernel_gets_gradients():
    conv = OFAConv2d(4, 4, 5, padding=2)
    kernel = OneShotMutableValue([3, 5])
    conv.register_mutable_attr('kernel_size', kernel)
    kernel.current_choice = 3
    conv(torch.randn(1, 4, 6, 6)).sum().backward()
    assert conv.trans_matrix(5, 3).grad.abs().sum() > 0


def test_linear():
    linear = DynamicLinear(10, 6)
    linear.register_mutable_attr('in_channels', OneShotMutableChannel(
        10, [0.5, 1.0], choice_mode='ratio'))
    linear.register_mutable_attr('out_channels', SquentialMutableChannel(6))
    linear.get_mutable_attr('in_channels').current_choice = 0.5
    linear.get_mutable_attr('out_channels').current_choice = 3
    static = _check_export(linear, torch.randn(4, 5), nn.Linear)
    assert static.weight.shape == (3, 5)


@pytest.mark.parametrize('cls,shape', [(DynamicBatchNorm2d, (4, 6, 3, 3)),
                                       (DynamicBatchNorm1d, (4, 6)),
                                       (DynamicSyncBatchNorm, (4, 6, 3, 3))])
def test_batch_norm_updates_active_statistics(cls, shape):
    bn = cls(10)
    mutable = SimpleMutableChannel(10)
    bn.register_mutable_attr('num_features', mutable)
    mask = torch.zeros(10, dtype=torch.bool)
    mask[[1, 2, 4, 5, 8, 9]] = True
    mutable.current_choice = mask
    bn.train()
    bn(torch.randn(*shape) + 3)
    assert (bn.running_mean[mask] > 0.1).all()
    assert (bn.running_mean[~mask] == 0).all()
    assert bn.num_batches_tracked.item() == 1
    _check_export(bn, torch.randn(*shape), cls.static_type)
    prefix = SquentialMutableChannel(10)
    bn2 = cls(10)
    bn2.register_mutable_attr('out_channels', prefix)
    prefix.current_choice = 6
    bn2.train()
    bn2(torch.randn(*shape) + 3)
    assert (bn2.running_mean[:6] > 0.1).all()
    assert (bn2.running_mean[6:] == 0).all()


def test_layer_norm():
    ln = DynamicLayerNorm(8)
    ln.register_mutable_attr('in_channels', SquentialMutableChannel(8))
    ln.get_mutable_attr('in_channels').current_choice = 5
    static = _check_export(ln, torch.randn(2, 3, 5), nn.LayerNorm)
    assert static.normalized_shape == (5, )


def test_sequential_depth_and_nested_export():
    blocks = DynamicSequential(*[nn.Linear(4, 4) for _ in range(3)])
    depth = OneShotMutableValue([1, 2, 3])
    blocks.register_mutable_attr('depth', depth)
    depth.current_choice = 2
    assert len(blocks) == 3 and blocks.active_depth == 2
    x = torch.randn(2, 4)
    expected = blocks[1](blocks[0](x))
    assert _max_diff(blocks(x), expected) == 0
    static = export_static_model(nn.Sequential(blocks))
    assert [type(m) for m in static[0]] == [nn.Linear, nn.Linear]
    with torch.no_grad():
        assert _max_diff(static(x), expected) <= 1e-6
    with pytest.raises(ValueError, match=r'depth choices must be ints in '
                       r'\[1, 3\]'):
        blocks.register_mutable_attr('depth', OneShotMutableValue([2, 4]))


def test_input_resizer():
    resizer = DynamicInputResizer()
    shape = OneShotMutableValue([[8, 8], [12, 12]], default_value=[8, 8])
    resizer.register_mutable_attr('shape', shape)
    x = torch.randn(1, 3, 10, 10)
    assert resizer(x).shape[-2:] == (8, 8)
    shape.current_choice = [12, 12]
    static = resizer.to_static_op()
    assert _max_diff(static(x), resizer(x)) == 0
    assert static(x).shape[-2:] == (12, 12)


def test_derived_mutable_follows_deep_copy():
    in_ch = OneShotMutableChannel(32, [16, 24, 32])
    ratio = OneShotMutableValue([4, 6])
    mid = DerivedMutable.scaled([in_ch, ratio], divisor=8, num_channels=192)
    holder = nn.ModuleDict(dict(in_ch=in_ch, ratio=ratio, mid=mid))
    assert mid.activated_channels == 192
    in_ch.current_choice, ratio.current_choice = 16, 4
    assert mid.activated_channels == 64
    assert mid.activated_index == slice(0, 64)
    copied = copy.deepcopy(holder)
    copied['ratio'].current_choice = 6
    assert copied['mid'].activated_channels == 96
    assert mid.activated_channels == 64


def test_one_shot_mutable_channel_contract():
    mutable = MODELS.build(dict(type='OneShotMutableChannel', num_channels=16,
                                candidate_choices=[1.0, 0.25, 0.5],
                                choice_mode='ratio'))
    assert mutable.choices == [0.25, 0.5, 1.0]
    assert mutable.min_choice == 0.25 and mutable.activated_channels == 16
    mutable.current_choice = 0.25
    assert mutable.activated_channels == 4
    assert mutable.current_mask.sum() == 4
    with pytest.raises(ValueError, match='not one of its choices'):
        mutable.current_choice = 0.3
    with pytest.raises(ValueError, match=r'a float in \(0, 1\]'):
        OneShotMutableChannel(16, [0, 0.5], choice_mode='ratio')
    with pytest.raises(ValueError, match=r'an int in \[1, 16\]'):
        OneShotMutableChannel(16, [8, 17])
    mutable.fix_chosen(0.5)
    assert mutable.dump_chosen().chosen == 0.5 and mutable.is_fixed


def test_no_grad_cache_follows_choices_and_weights():
    conv = DynamicConv2d(8, 8, 3, padding=1)
    mutable = SquentialMutableChannel(8)
    conv.register_mutable_attr('out_channels', mutable)
    x = torch.randn(1, 8, 5, 5)
    with torch.no_grad():
        mutable.current_choice = 4
        first = conv(x)
        assert conv(x).shape[1] == 4
        mutable.current_choice = 6
        assert conv(x).shape[1] == 6
        conv.weight.mul_(2)  # an in-place update bumps the version
        mutable.current_choice = 4
        assert torch.allclose(conv(x), 2 * first - conv.bias[:4].view(
            1, -1, 1, 1), atol=1e-5)
    out = conv(x)
    out.sum().backward()  # with autograd on, nothing cached is reused
    assert conv.weight.grad[:4].abs().sum() > 0


def _cached_conv():
    conv = BigNasConv2d(4, 4, 5, padding=2).eval()
    kernel = OneShotMutableValue([3, 5])
    conv.register_mutable_attr('kernel_size', kernel)
    conv.register_mutable_attr('out_channels', SquentialMutableChannel(4))
    conv.get_mutable_attr('out_channels').current_choice = 3
    return conv, kernel


def test_inference_cache_is_never_stale():
    x = torch.randn(1, 4, 6, 6)
    conv, kernel = _cached_conv()
    with torch.no_grad():
        conv(x)
        # fixing a value mutable changes the kernel
        kernel.fix_chosen(3)
        assert torch.equal(conv(x), conv.to_static_op().eval()(x))
        # a deep copy starts without the cache, even after a weight load
        copied = copy.deepcopy(conv)
        copied.load_state_dict(
            {k: torch.zeros_like(v) for k, v in conv.state_dict().items()})
        assert copied(x).abs().max() == 0
        # casting the module
        assert conv.double()(x.double()).dtype == torch.float64
    # an optimizer step invalidates it too
    conv.float()
    with torch.no_grad():
        before = conv(x)
    optimizer = torch.optim.SGD(conv.parameters(), lr=1.0)
    conv.train()
    conv(x).sum().backward()
    optimizer.step()
    conv.eval()
    with torch.no_grad():
        assert not torch.equal(conv(x), before)
        assert torch.equal(conv(x), conv.to_static_op().eval()(x))


def test_sync_batch_norm_outside_distributed_is_a_batch_norm():
    """Not distributed: DynamicSyncBatchNorm computes what
    DynamicBatchNorm2d computes, and converts from a SyncBatchNorm keeping
    its process group."""
    torch.manual_seed(0)
    sync = DynamicSyncBatchNorm.convert_from(nn.SyncBatchNorm(10))
    plain = DynamicBatchNorm2d(10)
    x = torch.randn(4, 6, 3, 3)
    outs = []
    for bn in (sync, plain):
        mutable = SquentialMutableChannel(10)
        bn.register_mutable_attr('num_features', mutable)
        mutable.current_choice = 6
        bn.train()
        outs.append((bn(x), bn.running_mean.clone()))
    assert torch.allclose(outs[0][0], outs[1][0])
    assert torch.allclose(outs[0][1], outs[1][1])
    assert isinstance(sync.to_static_op(), nn.SyncBatchNorm)
