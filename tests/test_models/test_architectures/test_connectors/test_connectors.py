# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.models import BaseConnector
from mmrazor.registry import MODELS

# Student feature (2, 8, 6, 6); teacher shapes are what each connector must
# produce.
SHAPE_CASES = [
    (dict(type='mmrazor.ConvModuleConnector', in_channel=8, out_channel=16,
          norm_cfg=dict(type='BN'), act_cfg=None), (2, 16, 6, 6)),
    (dict(type='mmrazor.ConvModuleConnector', in_channel=8, out_channel=16,
          kernel_size=3, stride=2, padding=1,
          order=('norm', 'conv', 'act'), norm_cfg=dict(type='BN')),
     (2, 16, 3, 3)),
    (dict(type='mmrazor.NormConnector', in_channels=8,
          norm_cfg=dict(type='BN')), (2, 8, 6, 6)),
    (dict(type='mmrazor.TorchFunctionalConnector', function_name='avg_pool2d',
          func_args=dict(kernel_size=2)), (2, 8, 3, 3)),
    (dict(type='mmrazor.TorchNNConnector', module_name='AdaptiveAvgPool2d',
          module_args=dict(output_size=2)), (2, 8, 2, 2)),
    (dict(type='mmrazor.Paraphraser', in_channel=8, out_channel=4),
     (2, 8, 6, 6)),
    (dict(type='mmrazor.Paraphraser', in_channel=8, out_channel=4,
          phase='train', use_bn=True), (2, 4, 6, 6)),
    (dict(type='mmrazor.Translator', in_channel=8, out_channel=4),
     (2, 4, 6, 6)),
    (dict(type='mmrazor.MGDConnector', student_channels=8,
          teacher_channels=16), (2, 16, 6, 6)),
    (dict(type='mmrazor.MGDConnector', student_channels=8,
          teacher_channels=8, lambda_mgd=0.5), (2, 8, 6, 6)),
    (dict(type='mmrazor.CRDConnector', dim_in=8 * 6 * 6, dim_out=16),
     (2, 16)),
    (dict(type='mmrazor.ChannelSpatialConnector', in_channels=8,
          out_channels=16, out_size=(3, 4)), (2, 16, 3, 4)),
]


@pytest.mark.parametrize('cfg, shape', SHAPE_CASES,
                         ids=[c['type'] for c, _ in SHAPE_CASES])
def test_connector_shapes(cfg, shape):
    connector = MODELS.build(cfg)
    assert isinstance(connector, BaseConnector)
    out = connector(torch.randn(2, 8, 6, 6))
    assert out.shape == shape


def test_base_connector_is_abstract():
    with pytest.raises(TypeError):
        BaseConnector()


def test_torch_connectors_apply_named_op():
    x = torch.randn(2, 8, 6, 6)
    normalize = MODELS.build(
        dict(type='mmrazor.TorchFunctionalConnector',
             function_name='normalize', func_args=dict(dim=1)))
    assert torch.allclose(normalize(x), F.normalize(x, dim=1))
    upsample = MODELS.build(
        dict(type='mmrazor.TorchNNConnector', module_name='Upsample',
             module_args=dict(scale_factor=2)))
    assert isinstance(upsample.module, nn.Upsample)
    assert upsample(x).shape == (2, 8, 12, 12)


def test_byot_connector_returns_feature_and_logits():
    # A CIFAR ResNet-18 layer2-like feature: 128 -> 512 base channels.
    connector = MODELS.build(
        dict(type='mmrazor.BYOTConnector', in_channel=8, out_channel=32,
             expansion=1, kernel_size=3, stride=2, num_classes=10))
    feat, logits = connector(torch.randn(2, 8, 16, 16))
    assert feat.shape == (2, 32) and logits.shape == (2, 10)
    # Expansion multiplies the channels; a fixed pool works when it gives
    # 1x1 (16 -> 8 -> 4 after two doublings with stride 2).
    connector = MODELS.build(
        dict(type='mmrazor.BYOTConnector', in_channel=2, out_channel=8,
             expansion=4, stride=2, pool_size=4, num_classes=5))
    feat, logits = connector(torch.randn(2, 8, 16, 16))
    assert feat.shape == (2, 32) and logits.shape == (2, 5)
    with pytest.raises(ValueError, match=r'pool_size.*\(2, 2\)'):
        connector(torch.randn(2, 8, 32, 32))


def test_paraphraser_phases():
    connector = MODELS.build(
        dict(type='mmrazor.Paraphraser', in_channel=8, out_channel=4))
    x = torch.randn(2, 8, 6, 6)
    rec = connector(x)
    assert rec.shape == x.shape and rec.requires_grad
    connector.phase = 'train'
    factor = connector(x)
    assert factor.shape == (2, 4, 6, 6) and not factor.requires_grad
    assert torch.allclose(factor, connector.encoder(x))


def test_mgd_connector_masks_whole_positions():
    x = torch.randn(2, 8, 6, 6)
    connector = MODELS.build(
        dict(type='mmrazor.MGDConnector', student_channels=8,
             teacher_channels=8, lambda_mgd=0.))
    # lambda_mgd=0 keeps every position: a deterministic generation.
    assert torch.allclose(connector(x), connector.generation(x))
    connector = MODELS.build(
        dict(type='mmrazor.MGDConnector', student_channels=8,
             teacher_channels=8, lambda_mgd=0.5))
    connector.generation = nn.Identity()
    torch.manual_seed(0)
    masked = connector(torch.randn(4, 8, 16, 16)) == 0
    # A position is dropped in all channels or in none.
    assert (masked.all(dim=1) == masked.any(dim=1)).all()
    assert 0.35 < masked[:, 0].float().mean() < 0.65
    # mask_on_channel (the original's option): whole channels instead
    connector = MODELS.build(
        dict(type='mmrazor.MGDConnector', student_channels=8,
             teacher_channels=8, lambda_mgd=0.5, mask_on_channel=True))
    connector.generation = nn.Identity()
    masked = connector(torch.randn(4, 8, 16, 16)) == 0
    per_channel = masked.flatten(2)
    assert (per_channel.all(dim=2) == per_channel.any(dim=2)).all()
    assert 0.3 < per_channel[..., 0].float().mean() < 0.7


def test_crd_connector_gives_unit_vectors():
    connector = MODELS.build(
        dict(type='mmrazor.CRDConnector', dim_in=8, dim_out=4))
    out = connector(torch.randn(3, 8))
    assert torch.allclose(out.norm(dim=1), torch.ones(3))
    with pytest.raises(ValueError, match='dim_in'):
        connector(torch.randn(3, 9))


@pytest.mark.parametrize(
    'mode', ['gaussian', 'embedded_gaussian', 'dot_product', 'concatenation'])
def test_fbkd_connectors(mode):
    x = torch.randn(2, 8, 8, 8)
    cfg = dict(in_channels=8, reduction=2, mode=mode, sub_sample=True,
               maxpool_stride=4)
    student = MODELS.build(dict(cfg, type='mmrazor.FBKDStudentConnector'))
    teacher = MODELS.build(dict(cfg, type='mmrazor.FBKDTeacherConnector'))
    s_out, t_out = student(x), teacher(x)
    assert isinstance(s_out, tuple) and isinstance(t_out, tuple)
    assert [tuple(t.shape) for t in s_out] == [
        (2, 1, 8, 8), (2, 8, 1, 1), (2, 8), (2, 1, 8, 8), (2, 8, 8, 8),
        (2, 8, 8, 8)]
    assert [tuple(t.shape) for t in t_out] == [
        (2, 1, 8, 8), (2, 8, 1, 1), (2, 1, 8, 8), (2, 8, 8, 8), (2, 8, 8, 8)]
    spatial_mask, channel_mask, spatial_pool, relation, feat = t_out
    # Masks are scaled softmaxes: each averages to one.
    assert torch.allclose(spatial_mask.mean(dim=(2, 3)), torch.ones(2, 1))
    assert torch.allclose(channel_mask.mean(dim=1), torch.ones(2, 1, 1))
    assert torch.allclose(spatial_pool, x.mean(dim=1, keepdim=True))
    # zeros_init: the non-local block starts as the identity.
    assert torch.allclose(relation, x) and feat is x


ERROR_CASES = [
    (dict(type='mmrazor.ConvModuleConnector', in_channel=0, out_channel=4),
     'in_channel.*0'),
    (dict(type='mmrazor.ConvModuleConnector', in_channel=8, out_channel=4,
          order=('conv', 'act')), "order.*'conv', 'norm', 'act'"),
    (dict(type='mmrazor.ConvModuleConnector', in_channel=8, out_channel=4,
          bias='yes'), "bias.*'auto'.*'yes'"),
    (dict(type='mmrazor.NormConnector', in_channels=8, norm_cfg=dict()),
     "norm_cfg.*'type'"),
    (dict(type='mmrazor.TorchFunctionalConnector',
          function_name='avg_pol2d'), "avg_pol2d.*close names.*'avg_pool2d'"),
    (dict(type='mmrazor.TorchNNConnector', module_name='Conv2D'),
     "Conv2D.*close names.*'Conv2d'"),
    (dict(type='mmrazor.BYOTConnector', in_channel=8, out_channel=24,
          num_classes=10), 'power of two.*24 / 8'),
    (dict(type='mmrazor.BYOTConnector', in_channel=8, out_channel=16,
          num_classes=0), 'num_classes'),
    (dict(type='mmrazor.Paraphraser', in_channel=8, out_channel=4,
          phase='finetune'), "phase.*'pretrain', 'train'.*'finetune'"),
    (dict(type='mmrazor.MGDConnector', student_channels=8,
          teacher_channels=8, lambda_mgd=1.0), r'lambda_mgd.*\[0, 1\).*1.0'),
    (dict(type='mmrazor.CRDConnector', dim_in=-1), 'dim_in.*-1'),
    (dict(type='mmrazor.FBKDStudentConnector', in_channels=8, mode='cosine'),
     "mode.*'dot_product'.*'cosine'"),
    (dict(type='mmrazor.FBKDTeacherConnector', in_channels=8, spatial_T=0),
     'spatial_T.*0'),
    (dict(type='mmrazor.ChannelSpatialConnector', in_channels=8,
          out_channels=8, mode='nearest'),
     "mode.*'bilinear', 'area', 'adaptive_avg'.*'nearest'"),
    (dict(type='mmrazor.ChannelSpatialConnector', in_channels=8,
          out_channels=8, out_size=(3, 0)), r'out_size.*\(3, 0\)'),
]


@pytest.mark.parametrize('cfg, match', ERROR_CASES,
                         ids=[c['type'] for c, _ in ERROR_CASES])
def test_argument_errors_name_field_value_and_allowed(cfg, match):
    # The registry re-raises the connector's error with the class prepended.
    with pytest.raises((ValueError, TypeError), match=match):
        MODELS.build(cfg)


def test_dict_arguments_must_be_dicts():
    with pytest.raises(TypeError, match='func_args'):
        MODELS.build(
            dict(type='mmrazor.TorchFunctionalConnector', function_name='relu',
                 func_args=[1]))
    with pytest.raises(TypeError, match='module_args'):
        MODELS.build(
            dict(type='mmrazor.TorchNNConnector', module_name='ReLU',
                 module_args=True))
