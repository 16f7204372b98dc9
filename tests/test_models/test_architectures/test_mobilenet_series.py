# Copyright (c) OpenMMLab. All rights reserved.
"""MBBlock and the SPOS MobileNet backbone."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmcls.models.utils import SELayer
from mmengine.config import Config

from mmrazor.models import (
    MBBlock,
    NasMutator,
    OneShotMutableOP,
    SearchableMobileNetV2,
    ShortcutLayer,
)
from mmrazor.models.utils import count_mutables, export_static_model
from mmrazor.registry import MODELS

from ...conftest import CONFIG_DIR

SPOS_MOBILENET = osp.join(CONFIG_DIR, '_base_', 'nas_backbones',
                          'spos_mobilenet_supernet.py')


# Small forwards run faster on one thread on a shared CPU.
pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.mark.parametrize('stride,in_channels', [(1, 16), (1, 24), (2, 16)])
@pytest.mark.parametrize('expand_ratio', [1, 3, 6])
def test_mb_block_shapes(stride, in_channels, expand_ratio):
    block = MODELS.build(
        dict(type='MBBlock', in_channels=in_channels, out_channels=24,
             stride=stride, kernel_size=5, expand_ratio=expand_ratio))
    assert block.with_expand_conv == (expand_ratio != 1)
    assert block.depthwise_conv.conv.groups == in_channels * expand_ratio
    assert block.depthwise_conv.conv.kernel_size == (5, 5)
    assert not block.linear_conv.with_activation
    assert block.with_res_shortcut == (stride == 1 and in_channels == 24)
    out = block(torch.randn(2, in_channels, 9, 9))
    size = 9 if stride == 1 else 5
    assert out.shape == (2, 24, size, size)


def test_mb_block_residual_and_se():
    block = MBBlock(16, 16, 1, 3, 4, se_cfg=dict(ratio=4)).eval()
    assert isinstance(block.se, SELayer)
    assert block.se.conv1.conv.out_channels == 16  # make_divisible(64 // 4)
    x = torch.randn(1, 16, 8, 8)
    nn.init.zeros_(block.linear_conv.bn.weight)
    nn.init.zeros_(block.linear_conv.bn.bias)
    torch.testing.assert_close(block(x), x)  # zero branch: the identity


@pytest.mark.parametrize('stride,in_channels', [(1, 16), (1, 24), (2, 24)])
def test_attentive_shortcut(stride, in_channels):
    block = MBBlock(in_channels, 24, stride, 3, 1,
                    with_attentive_shortcut=True).eval()
    assert isinstance(block.shortcut, ShortcutLayer)
    assert block.shortcut.reduction == stride
    same = in_channels == 24
    assert isinstance(block.shortcut.conv, nn.Identity) == same
    nn.init.zeros_(block.linear_conv.bn.weight)
    nn.init.zeros_(block.linear_conv.bn.bias)
    x = torch.randn(1, in_channels, 7, 7)
    out = block(x)
    # odd sizes are padded, so the shortcut matches the stride-2 conv
    assert out.shape == (1, 24, 4, 4) if stride == 2 else (1, 24, 7, 7)
    if same and stride == 1:
        torch.testing.assert_close(out, x)


def test_drop_path_only_when_training():
    block = MBBlock(16, 16, 1, 3, 2, drop_path_rate=0.5)
    x = torch.randn(64, 16, 4, 4)
    torch.manual_seed(0)
    branch = block._inner_forward(x) - x
    dropped = (branch.flatten(1).abs().sum(1) == 0).float().mean()
    assert 0.2 < float(dropped) < 0.8
    block.eval()
    torch.testing.assert_close(block(x), block._inner_forward(x))


def test_with_cp_same_outputs_and_statistics():
    torch.manual_seed(0)
    plain = MBBlock(8, 8, 1, 3, 2)
    ckpt = MBBlock(8, 8, 1, 3, 2, with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    plain(x).sum().backward()
    grad = x.grad.clone()
    x.grad = None
    ckpt(x).sum().backward()
    torch.testing.assert_close(x.grad, grad)
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(ckpt.state_dict()[key], value, msg=key)


@pytest.mark.parametrize('kwargs,match', [
    (dict(kernel_size=4), '`kernel_size` must be an odd'),
    (dict(expand_ratio=0), '`expand_ratio` must be a positive'),
    (dict(stride=3), '`stride` must be 1 or 2'),
])
def test_mb_block_errors(kwargs, match):
    args = dict(in_channels=8, out_channels=8, stride=1, kernel_size=3,
                expand_ratio=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MBBlock(**args)


def spos_mobilenet() -> SearchableMobileNetV2:
    cfg = Config.fromfile(SPOS_MOBILENET)
    return MODELS.build(cfg.nas_backbone)


def test_spos_mobilenet_layout():
    model = spos_mobilenet()
    assert model.conv1.conv.out_channels == 40
    assert [len(layer) for layer in model.layers[:-1]] == [1, 4, 4, 4, 4, 4,
                                                           1]
    assert all(isinstance(b, OneShotMutableOP)
               for layer in model.layers[:-1] for b in layer)
    first = model.layer2[0]._candidates['mb_k7e6']
    assert (first.in_channels, first.out_channels, first.stride,
            first.mid_channels) == (24, 32, 2, 144)
    assert model.conv2.conv.out_channels == 1728
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    assert len(mutator.search_groups) == 22
    assert mutator.search_space_size == 7**21
    # the old registered name still builds it
    assert MODELS.get('SearchableMobileNet') is SearchableMobileNetV2


def test_spos_mobilenet_widen_out_indices_and_frozen():
    cfg = Config.fromfile(SPOS_MOBILENET)
    backbone = dict(cfg.nas_backbone, widen_factor=0.5, out_indices=(1, 7),
                    frozen_stages=2)
    model = MODELS.build(backbone)
    assert model.conv1.conv.out_channels == 24  # make_divisible(20, 8)
    assert model.conv2.conv.out_channels == 1728  # kept below x1
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    mutator.set_choices(mutator.sample_choices())
    model.train()
    assert not model.layer2.training and model.layer3.training
    assert not any(p.requires_grad for p in model.layer1.parameters())
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape for o in outs] == [(1, 16, 16, 16), (1, 1728, 2, 2)]


@pytest.mark.parametrize('kwargs,match', [
    (dict(out_indices=(8, )), 'out_indices item 8 refers to no layer'),
    (dict(frozen_stages=8), r'frozen_stages must be in range\(-1, 8\)'),
    (dict(arch_setting=[[16, 1, dict(type='Identity')]], out_indices=(1, )),
     r'must be \[channel, num_blocks, stride, mutable_cfg\]'),
])
def test_spos_mobilenet_errors(kwargs, match):
    cfg = Config.fromfile(SPOS_MOBILENET).nas_backbone
    cfg.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MODELS.build(cfg)


def test_spos_mobilenet_random_subnets_export():
    """10 random subnets: the static export matches and is smaller."""
    torch.manual_seed(0)
    model = spos_mobilenet().eval()
    full = sum(p.numel() for p in model.parameters())
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    x = torch.randn(1, 3, 64, 64)
    for _ in range(10):
        mutator.set_choices(mutator.sample_choices())
        static = export_static_model(model).eval()
        assert count_mutables(static) == 0
        assert sum(p.numel() for p in static.parameters()) < full
        with torch.no_grad():
            diff = (static(x)[0] - model(x)[0]).abs().max()
        assert diff <= 1e-5
