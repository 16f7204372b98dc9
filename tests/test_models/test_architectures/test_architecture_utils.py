# Copyright (c) OpenMMLab. All rights reserved.
"""``set_dropout`` (MMRazor 1.0's helper of MobileNet-style supernets)."""
import pytest
import torch.nn as nn

from mmrazor.models.architectures.utils import set_dropout


class Block(nn.Identity):

    def __init__(self):
        super().__init__()
        self.drop_path_rate = -1.0


def test_rates_grow_with_depth_in_the_chosen_stages():
    layers = [nn.Sequential(Block(), Block()), nn.Sequential(Block()),
              nn.Sequential(Block(), nn.ReLU(), Block())]
    set_dropout(layers, Block, dropout_stages=[2, 3], drop_path_rate=0.5)
    rates = [[b.drop_path_rate for b in layer if isinstance(b, Block)]
             for layer in layers]
    # 5 blocks: the i-th gets 0.5 * i / 5; stage 1 is left alone
    assert rates == [[-1.0, -1.0], [0.5 * 2 / 5], [0.5 * 3 / 5, 0.5 * 4 / 5]]


def test_blocks_without_the_attribute():
    with pytest.raises(TypeError, match='no `drop_path_rate`'):
        set_dropout([nn.Sequential(nn.ReLU())], nn.ReLU, [1], 0.1)


def _dynamic_mb_block(se: bool = True):
    from mmrazor.models.architectures.ops import MBBlock
    return MBBlock(16, 24, stride=1, kernel_size=5, expand_ratio=6,
                   se_cfg=dict(ratio=4, conv_cfg=dict(
                       type='mmrazor.BigNasConv2d')) if se else None,
                   conv_cfg=dict(type='mmrazor.BigNasConv2d'),
                   norm_cfg=dict(type='mmrazor.DynamicBatchNorm2d'),
                   with_attentive_shortcut=True)


def test_mutate_mobilenet_layer_follows_the_mutables():
    import torch

    from mmrazor.models.architectures.utils import (
        mutate_conv_module,
        mutate_mobilenet_layer,
    )
    from mmrazor.models.mutables import (
        OneShotMutableChannel,
        OneShotMutableValue,
    )
    from mmrazor.models.utils import export_static_model
    block = _dynamic_mb_block()
    in_ch = OneShotMutableChannel(16, candidate_choices=[8, 16])
    out_ch = OneShotMutableChannel(24, candidate_choices=[16, 24])
    ratio = OneShotMutableValue(value_list=[4, 6])
    kernel = OneShotMutableValue(value_list=[3, 5])
    mutate_mobilenet_layer(block, in_ch, out_ch, ratio, kernel)
    for mutable, value in ((in_ch, 8), (out_ch, 16), (ratio, 4),
                           (kernel, 3)):
        mutable.current_choice = value
    block.eval()
    x = torch.randn(2, 8, 6, 6)
    with torch.no_grad():
        out = block(x)
        static = export_static_model(block)
        assert torch.allclose(static(x), out, atol=1e-5)
    assert out.shape == (2, 16, 6, 6)
    assert static.expand_conv.conv.out_channels == 32
    assert static.depthwise_conv.conv.kernel_size == (3, 3)
    assert static.se.conv1.conv.out_channels == 8  # make_divisible(32//4)
    with pytest.raises(ValueError, match='fine_grained_mode=True'):
        mutate_mobilenet_layer(_dynamic_mb_block(), in_ch, out_ch, ratio,
                               kernel, fine_grained_mode=True)
    plain = _dynamic_mb_block(se=False)
    plain.depthwise_conv.conv = nn.Conv2d(96, 96, 5, groups=96)
    with pytest.raises(TypeError, match='cannot follow a mutable'):
        mutate_conv_module(plain.depthwise_conv, kernel, None,
                           mutable_kernel_size=kernel)
