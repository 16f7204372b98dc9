# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch

from mmrazor.models import BaseOP
from mmrazor.registry import MODELS


@pytest.mark.parametrize('stride', [1, 2])
@pytest.mark.parametrize('op_cfg', [
    dict(type='ShuffleBlock', kernel_size=3),
    dict(type='ShuffleBlock', kernel_size=5),
    dict(type='ShuffleBlock', kernel_size=7),
    dict(type='ShuffleXception'),
    dict(type='Identity'),
])
def test_op_shapes(op_cfg, stride):
    in_channels = 32 if stride == 1 else 16
    op = MODELS.build(
        dict(op_cfg, in_channels=in_channels, out_channels=32, stride=stride))
    assert isinstance(op, BaseOP)
    out = op(torch.randn(2, in_channels, 8, 8))
    assert out.shape == (2, 32, 8 // stride, 8 // stride)


def test_shuffle_block_layout():
    """SPOS unit as in MMRazor 1.0: each branch gives half the output; with
    stride 1 the first half of the input passes unchanged."""
    op = MODELS.build(
        dict(
            type='ShuffleBlock',
            kernel_size=5,
            in_channels=16,
            out_channels=64,
            stride=2))
    assert op.branch1[0].conv.groups == 16
    assert op.branch1[0].conv.stride == (2, 2)
    assert op.branch1[1].conv.out_channels == 32
    assert op.branch2[0].conv.in_channels == 16
    assert op.branch2[0].conv.out_channels == 32
    assert op.branch2[1].conv.kernel_size == (5, 5)
    assert op.branch2[1].conv.groups == 32
    assert op.branch2[2].conv.out_channels == 32
    op1 = MODELS.build(
        dict(type='ShuffleBlock', in_channels=64, out_channels=64))
    assert op1.stride == 1  # the default, as in the original
    assert not hasattr(op1, 'branch1')
    assert op1.branch2[0].conv.in_channels == 32
    x = torch.randn(1, 64, 4, 4)
    out = op1.eval()(x)
    # Channel shuffle with 2 groups puts the untouched half at even indices.
    torch.testing.assert_close(out[:, 0::2], x[:, :32])


def test_shuffle_xception_layout():
    op = MODELS.build(
        dict(
            type='ShuffleXception', in_channels=16, out_channels=64,
            stride=2))
    assert op.mid_channels == 32
    assert op.branch1[1].conv.out_channels == 32
    assert len(op.branch2) == 3
    first = op.branch2[0]
    assert first.depthwise_conv.conv.stride == (2, 2)
    assert first.depthwise_conv.conv.groups == 16
    assert not first.depthwise_conv.with_activation
    assert first.pointwise_conv.conv.out_channels == 32
    depthwise = [
        m for m in op.branch2.modules()
        if isinstance(m, torch.nn.Conv2d) and m.groups > 1
    ]
    assert len(depthwise) == 3
    # stride 2 may keep the width too (any in_channels works)
    same = MODELS.build(
        dict(type='ShuffleXception', in_channels=32, out_channels=32,
             stride=2))
    assert same(torch.randn(1, 32, 8, 8)).shape == (1, 32, 4, 4)


@pytest.mark.parametrize('op_cfg', [
    dict(type='ShuffleBlock', kernel_size=7),
    dict(type='ShuffleXception'),
])
def test_with_cp_computes_the_same(op_cfg):
    torch.manual_seed(0)
    plain = MODELS.build(
        dict(op_cfg, in_channels=16, out_channels=32, stride=2))
    cp = MODELS.build(
        dict(op_cfg, in_channels=16, out_channels=32, stride=2,
             with_cp=True))
    cp.load_state_dict(plain.state_dict())
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    x_cp = x.detach().clone().requires_grad_()
    plain(x).sum().backward()
    cp(x_cp).sum().backward()
    torch.testing.assert_close(x_cp.grad, x.grad)
    # the recomputation does not update the norms' statistics twice
    for a, b in zip(plain.buffers(), cp.buffers()):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize('kwargs, match', [
    (dict(type='ShuffleBlock', kernel_size=4), 'kernel_size'),
    (dict(type='ShuffleBlock', stride=3), 'stride'),
    (dict(type='ShuffleBlock', out_channels=33), 'even'),
    (dict(type='ShuffleBlock', in_channels=16, stride=1), 'stride 1'),
    (dict(type='ShuffleXception', in_channels=16, stride=1), 'stride 1'),
    (dict(type='Identity', in_channels=0), 'in_channels'),
])
def test_bad_arguments(kwargs, match):
    cfg = dict(in_channels=32, out_channels=32, stride=2)
    cfg.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MODELS.build(cfg)


def test_identity_is_identity_when_shapes_match():
    op = MODELS.build(
        dict(type='Identity', in_channels=8, out_channels=8, stride=1))
    x = torch.randn(1, 8, 3, 3)
    assert op(x) is x


def test_conv_bn_act_keeps_the_original_keys_and_applies_se():
    plain = MODELS.build(dict(type='mmrazor.ConvBnAct', in_channels=8,
                              out_channels=8, kernel_size=3, padding=1,
                              skip=True))
    assert {k.rsplit('.', 1)[0] for k in plain.state_dict()} == {
        'convModule.conv', 'convModule.bn'}
    x = torch.randn(2, 8, 6, 6)
    with torch.no_grad():
        plain.eval()
        assert torch.allclose(plain(x), plain.convModule(x) + x)
        se = MODELS.build(dict(type='mmrazor.ConvBnAct', in_channels=8,
                               out_channels=16, kernel_size=1, stride=2,
                               se_cfg=dict(ratio=4)))
        se.eval()
        out = se(x)
        assert out.shape == (2, 16, 3, 3)
        assert 'se.conv1.conv.weight' in se.state_dict()
        # the SE layer is applied (the original built it and skipped it)
        assert torch.allclose(out, se.se(se.convModule(x)))
        assert not torch.allclose(out, se.convModule(x))


@pytest.mark.parametrize('in_channels,out_channels,stride,dilation',
                         [(8, 8, 1, 1), (8, 16, 2, 1), (8, 8, 1, 2)])
def test_depthwise_separable_conv(in_channels, out_channels, stride,
                                  dilation):
    op = MODELS.build(dict(
        type='mmrazor.DepthwiseSeparableConv', in_channels=in_channels,
        out_channels=out_channels, stride=stride, dilation=dilation,
        se_cfg=dict(ratio=4))).eval()
    x = torch.randn(2, in_channels, 8, 8)
    with torch.no_grad():
        out = op(x)
        assert out.shape == (2, out_channels, 8 // stride, 8 // stride)
        body = op.conv_pw(op.se(op.conv_dw(x)))
        residual = stride == 1 and in_channels == out_channels
        assert torch.allclose(out, body + x if residual else body)
    assert op.conv_dw.conv.groups == in_channels
    assert not op.conv_pw.with_activation  # pw_act=False
    keys = {k.rsplit('.', 1)[0] for k in op.state_dict()}
    assert {'conv_dw.conv', 'conv_dw.bn', 'conv_pw.conv', 'conv_pw.bn',
            'se.conv1.conv', 'se.conv2.conv'} <= keys
