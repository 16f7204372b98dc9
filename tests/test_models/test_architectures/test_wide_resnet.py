# Copyright (c) OpenMMLab. All rights reserved.
"""WideResNet: the original MMRazor's layout and the WRN arithmetic."""
import pytest
import torch

from mmrazor.models import WideResNet
from mmrazor.registry import MODELS


def test_wrn16_2_layout_and_output():
    model = MODELS.build(dict(type='WideResNet', depth=16, widen_factor=2))
    state = model.state_dict()
    # MMRazor 1.0.0 builds the same 81 entries (checked against its wheel:
    # its weights load strictly and give identical features)
    assert len(state) == 81
    assert state['layer1.0.downsample.weight'].shape == (32, 16, 1, 1)
    assert 'layer1.1.downsample.weight' not in state
    assert state['bn1.weight'].shape == (128, )
    assert sum(p.numel() for p in model.parameters()) == 690_384
    out = model.eval()(torch.rand(2, 3, 32, 32))
    assert len(out) == 1 and out[0].shape == (2, 128, 8, 8)
    assert (out[0] >= 0).all()  # ends with BN-ReLU


def test_frozen_stages_and_errors():
    model = WideResNet(depth=10, widen_factor=1, frozen_stages=1)
    model.train()
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert not model.layer1.training
    assert all(p.requires_grad for p in model.layer2.parameters())
    with pytest.raises(KeyError, match='depth 18'):
        WideResNet(depth=18)
    with pytest.raises(ValueError, match='num_stages'):
        WideResNet(depth=16, num_stages=4)
