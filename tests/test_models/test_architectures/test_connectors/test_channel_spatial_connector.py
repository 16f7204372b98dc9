# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmrazor.registry import MODELS


def _build(**kwargs):
    return MODELS.build(
        dict(type='mmrazor.ChannelSpatialConnector', in_channels=8,
             out_channels=16, **kwargs))


@pytest.mark.parametrize('mode', ['bilinear', 'area', 'adaptive_avg'])
@pytest.mark.parametrize('out_size, shape', [((3, 3), (2, 16, 3, 3)),
                                             (12, (2, 16, 12, 12)),
                                             ((4, 9), (2, 16, 4, 9)),
                                             (None, (2, 16, 6, 6))])
def test_aligns_channels_and_spatial_size(mode, out_size, shape):
    connector = _build(out_size=out_size, mode=mode)
    assert connector(torch.randn(2, 8, 6, 6)).shape == shape


def test_spatial_alignment_values():
    x = torch.randn(2, 8, 6, 6)
    for mode in ('area', 'adaptive_avg'):
        connector = _build(out_size=3, mode=mode)
        expected = connector.conv(F.avg_pool2d(x, 2))
        assert torch.allclose(connector(x), expected, atol=1e-6)
    connector = _build(out_size=(12, 12), mode='bilinear')
    expected = F.interpolate(
        connector.conv(x), size=(12, 12), mode='bilinear',
        align_corners=False)
    assert torch.allclose(connector(x), expected, atol=1e-6)


def test_channel_alignment_values():
    connector = _build(out_size=None)
    with torch.no_grad():
        connector.conv.weight.zero_()
        connector.conv.bias.fill_(0.5)
        for c in range(8):  # out channel c copies in channel c, 8+c doubles
            connector.conv.weight[c, c] = 1.
            connector.conv.weight[8 + c, c] = 2.
    x = torch.randn(2, 8, 6, 6)
    out = connector(x)
    assert torch.allclose(out[:, :8], x + 0.5)
    assert torch.allclose(out[:, 8:], 2 * x + 0.5)


@pytest.mark.parametrize('mode', ['bilinear', 'area', 'adaptive_avg'])
def test_resize_commutes_with_conv(mode):
    """The connector may resize before or after the conv: same result."""
    connector = _build(out_size=(4, 5), mode=mode)
    x = torch.randn(2, 8, 6, 6)
    after = connector._resize(connector.conv(x))
    before = connector.conv(connector._resize(x))
    assert torch.allclose(after, before, atol=1e-5)
    assert torch.allclose(connector(x), after, atol=1e-5)
