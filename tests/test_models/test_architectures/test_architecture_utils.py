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
