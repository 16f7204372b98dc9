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
    """SPOS unit: the stride-2 projection keeps in_channels, the main branch
    gives the rest; with stride 1 half the channels pass unchanged."""
    op = MODELS.build(
        dict(
            type='ShuffleBlock',
            kernel_size=5,
            in_channels=16,
            out_channels=64,
            stride=2))
    assert op.branch_proj[1].conv.out_channels == 16
    assert op.branch_main[0].conv.out_channels == 32  # mid = out / 2
    assert op.branch_main[1].conv.kernel_size == (5, 5)
    assert op.branch_main[1].conv.groups == 32
    assert op.branch_main[2].conv.out_channels == 48
    op1 = MODELS.build(
        dict(
            type='ShuffleBlock', in_channels=64, out_channels=64, stride=1))
    assert not hasattr(op1, 'branch_proj')
    x = torch.randn(1, 64, 4, 4)
    out = op1.eval()(x)
    # Channel shuffle with 2 groups puts the untouched half at even indices.
    torch.testing.assert_close(out[:, 0::2], x[:, :32])


def test_shuffle_xception_has_three_depthwise_convs():
    op = MODELS.build(
        dict(
            type='ShuffleXception', in_channels=16, out_channels=64,
            stride=2))
    depthwise = [
        m for m in op.branch_main.modules()
        if isinstance(m, torch.nn.Conv2d) and m.groups > 1
    ]
    assert len(depthwise) == 3
    assert depthwise[0].stride == (2, 2)


@pytest.mark.parametrize('kwargs, match', [
    (dict(type='ShuffleBlock', kernel_size=4), 'kernel_size'),
    (dict(type='ShuffleBlock', stride=3), 'stride'),
    (dict(type='ShuffleBlock', out_channels=33), 'even'),
    (dict(type='ShuffleBlock', in_channels=16, stride=1), 'stride 1'),
    (dict(type='Identity', in_channels=0), 'in_channels'),
    (dict(type='ShuffleXception', in_channels=32), 'must exceed'),
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
