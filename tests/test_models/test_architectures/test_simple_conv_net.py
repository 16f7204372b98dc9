# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch
from mmcls.registry import MODELS as MMCLS_MODELS

from mmrazor.models import SimpleConvNet
from mmrazor.registry import MODELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def test_shapes_and_param_count():
    net = MODELS.build(dict(type='SimpleConvNet'))
    assert isinstance(net, SimpleConvNet)
    outs = net(torch.rand(2, 3, 32, 32))
    assert isinstance(outs, tuple)
    assert [o.shape for o in outs] == [(2, 32, 16, 16)]
    # 3*3*3*16 + 2*16 (BN) + 3*3*16*32 + 2*32 (BN): bias-free convs.
    assert num_params(net) == 432 + 32 + 4608 + 64 == 5136


def test_arguments():
    net = SimpleConvNet(channels=(8, 12), in_channels=1)
    (out, ) = net(torch.rand(1, 1, 20, 20))
    assert out.shape == (1, 12, 10, 10)
    assert num_params(net) == 9 * 8 + 16 + 9 * 8 * 12 + 24
    net = SimpleConvNet(norm_cfg=dict(type='GN', num_groups=4))
    assert isinstance(net.conv1.norm, torch.nn.GroupNorm)


@pytest.mark.parametrize('kwargs', [
    dict(channels=(16, )),
    dict(channels=(16, 32, 64)),
    dict(channels=(16, 0)),
    dict(in_channels=0),
])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match='SimpleConvNet'):
        SimpleConvNet(**kwargs)


def test_in_mmcls_classifier():
    classifier = MMCLS_MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='mmrazor.SimpleConvNet'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=32)))
    classifier.init_weights()
    assert num_params(classifier) == 5136 + 32 * 10 + 10
    assert classifier(torch.rand(2, 3, 32, 32)).shape == (2, 10)
