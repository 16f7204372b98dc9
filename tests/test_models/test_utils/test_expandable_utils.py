# Copyright (c) OpenMMLab. All rights reserved.
import math

import pytest
import torch
import torch.nn as nn

from mmrazor.models.utils import GroupFisherDeploySubModel
from mmrazor.models.utils.expandable_utils import (
    expand_expandable_dynamic_model,
    expand_static_model,
    make_channel_divisible,
    to_expandable_model,
)
from mmrazor.registry import MODELS

from ..test_algorithms._prune_toy import (
    CONV1,
    CONV2,
    PARSE_CFG,
    tiny_classifier,
)

SHAPE = (1, 3, 16, 16)


def randomize_bn(model):
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


def pruned_model():
    """The tiny classifier pruned to 5 and 11 channels (random weights)."""
    torch.manual_seed(0)
    model = GroupFisherDeploySubModel(
        tiny_classifier(), fix_subnet={CONV1: 5, CONV2: 11},
        parse_cfg=PARSE_CFG).eval()
    randomize_bn(model)
    return model


def test_make_divisible_keeps_the_outputs():
    model = pruned_model()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        ref = model(x, mode='tensor')
    structure = make_channel_divisible(model, 8, demo_input=SHAPE)
    assert sorted(structure.values()) == [8, 16]
    assert model.backbone.conv1.conv.out_channels == 8
    assert model.head.fc.in_features == 16
    with torch.no_grad():
        out = model(x, mode='tensor')
    assert (out - ref).abs().max() <= 1e-5


def test_pruned_model_expanded_back_to_the_original_shapes():
    model = pruned_model()
    expander = to_expandable_model(model, demo_input=SHAPE)
    names = sorted(expander.choice_template)
    assert sorted(expander.choice_template.values()) == [5, 11]
    first = next(n for n in names if n.startswith('backbone.conv1'))
    second = next(n for n in names if n.startswith('backbone.conv2'))
    expander.expand_to(first, 8)
    expander.expand_to(second, 16)
    expand_expandable_dynamic_model(model, zero=False)
    full = MODELS.build(tiny_classifier())
    assert {k: v.shape for k, v in model.state_dict().items()} == {
        k: v.shape for k, v in full.state_dict().items()}
    full.load_state_dict(model.state_dict())  # strict


class Branchy(nn.Module):
    """A residual add, a depthwise conv, a concat and a flattening head."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5)
        self.c2, self.b2 = nn.Conv2d(5, 5, 3, padding=1), nn.BatchNorm2d(5)
        self.dw = nn.Conv2d(5, 5, 3, padding=1, groups=5)
        self.a, self.b = nn.Conv2d(5, 3, 1), nn.Conv2d(5, 7, 1)
        self.fc = nn.Linear(10 * 2 * 2, 4)

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        y = torch.relu(self.dw(y + self.b2(self.c2(y))))
        return self.fc(torch.cat([self.a(y), self.b(y)], 1).flatten(1))


def test_old_weights_stay_new_ones_are_initialised():
    torch.manual_seed(0)
    model = Branchy().eval()
    randomize_bn(model)
    old = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 3, 2, 2)
    with torch.no_grad():
        ref = model(x)
    expander = to_expandable_model(model, demo_input=(1, 3, 2, 2))
    units = expander.choice_template
    assert sorted(units.values()) == [3, 5, 7]
    a_unit = next(n for n in units if n.startswith('a_'))
    c1_unit = next(n for n in units if n.startswith('c1_'))
    expander.expand_to(a_unit, 4)  # one more channel after a's three
    expander.expand_to(c1_unit, 6)
    expand_expandable_dynamic_model(model)
    fc = model.fc.weight
    assert fc.shape == (4, 11 * 4)
    # a's 3 channels x 4 pixels, then the new one, then b's 7 channels
    torch.testing.assert_close(fc[:, :12], old['fc.weight'][:, :12])
    torch.testing.assert_close(fc[:, 16:], old['fc.weight'][:, 12:])
    bound = 1 / math.sqrt(40)
    assert fc[:, 12:16].abs().max() <= bound and fc[:, 12:16].abs().sum() > 0
    # the residual unit grew in c1, c2, b1, b2, dw and the readers' inputs
    assert model.dw.groups == model.dw.out_channels == 6
    torch.testing.assert_close(model.c2.weight[:5, :5], old['c2.weight'])
    assert model.b1.weight[5] == 1 and model.b1.running_var[5] == 1
    assert model.b.weight.shape == (7, 6, 1, 1)
    with torch.no_grad():
        assert model(x).shape == ref.shape


def test_zero_expansion_of_the_branchy_model_is_exact():
    torch.manual_seed(1)
    model = Branchy().eval()
    randomize_bn(model)
    x = torch.randn(2, 3, 2, 2)
    with torch.no_grad():
        ref = model(x)
    structure = {
        name: num + 3
        for name, num in to_expandable_model(
            model, demo_input=(1, 3, 2, 2)).choice_template.items()
    }
    expand_static_model(model, structure, demo_input=(1, 3, 2, 2))
    assert model.fc.in_features == 16 * 4
    with torch.no_grad():
        assert (model(x) - ref).abs().max() <= 1e-5


def test_errors():
    model = Branchy()
    expander = to_expandable_model(model, demo_input=(1, 3, 2, 2))
    with pytest.raises(KeyError, match='cannot change: model output'):
        expander.expand_to('fc_(0, 4)_4', 8)
    name = next(iter(expander.choice_template))
    with pytest.raises(ValueError, match='int >= '):
        expander.expand_to(name, 1)
    with pytest.raises(ValueError, match='to_expandable_model'):
        expand_expandable_dynamic_model(nn.Conv2d(1, 1, 1))
    with pytest.raises(ValueError, match='divisor'):
        make_channel_divisible(model, 0, demo_input=(1, 3, 2, 2))
    grouped = nn.Sequential(nn.Conv2d(3, 4, 1), nn.GroupNorm(2, 4),
                            nn.Conv2d(4, 2, 1))
    with pytest.raises(KeyError, match='GroupNorm with 2 groups'):
        expand_static_model(grouped, {'0_(0, 4)_4': 8},
                            demo_input=(1, 3, 2, 2))
    normed = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    with pytest.raises(ValueError, match='1: LayerNorm cannot be expanded'):
        make_channel_divisible(normed, 8, demo_input=(1, 3))
    assert normed[0].out_features == 4  # refused before any change
