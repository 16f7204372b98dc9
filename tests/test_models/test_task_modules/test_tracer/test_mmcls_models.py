# Copyright (c) OpenMMLab. All rights reserved.
"""ChannelAnalyzer on mmcls classifiers, on small inputs.

Unit counts are pinned; ResNet-18, MobileNetV2, MobileNetV3, ShuffleNetV2
and a flattening VGG are also checked by pruning with their units.
"""
import json
from typing import Dict, Tuple

import pytest
import torch
import torch.nn as nn
from mmcls.registry import MODELS

from mmrazor.models import ChannelAnalyzer

from .conftest import check_format, entries, names
from .prune_check import check_by_pruning

TINY_CONVNEXT = dict(depths=[1, 1, 2, 1], channels=[16, 32, 64, 128])


def classifier(backbone: dict, channels: int, neck: bool = True,
               head: str = 'LinearClsHead') -> nn.Module:
    return MODELS.build(dict(
        type='ImageClassifier', backbone=backbone,
        neck=dict(type='GlobalAveragePooling') if neck else None,
        head=dict(type=head, num_classes=10, in_channels=channels)))


def vgg_flatten() -> nn.Module:
    """VGG-11 with its classifier resized to 64x64 inputs (2x2x512)."""
    model = MODELS.build(dict(type='VGG', depth=11, num_classes=10))
    model.classifier[0] = nn.Linear(512 * 2 * 2, 64)
    model.classifier[3] = nn.Linear(64, 64)
    model.classifier[6] = nn.Linear(64, 10)
    return model


# name: (builder, input size, prunable units, excluded units)
CASES: Dict[str, Tuple] = {
    'resnet18': (lambda: classifier(dict(type='ResNet', depth=18), 512),
                 32, 12, 2),
    'resnet50': (lambda: classifier(dict(type='ResNet', depth=50), 2048),
                 32, 37, 2),
    'resnext50': (lambda: classifier(dict(
        type='ResNeXt', depth=50, groups=32, width_per_group=4), 2048),
        32, 5, 34),
    'mobilenet_v2': (lambda: classifier(dict(type='MobileNetV2'), 1280),
                     32, 25, 2),
    'mobilenet_v3_small': (lambda: classifier(
        dict(type='MobileNetV3', arch='small'), 576), 32, 26, 2),
    'shufflenet_v1': (lambda: classifier(dict(type='ShuffleNetV1'), 960),
                      32, 0, 38),
    'shufflenet_v2': (lambda: classifier(dict(type='ShuffleNetV2'), 1024),
                      32, 18, 37),
    'regnetx_400mf': (lambda: classifier(
        dict(type='RegNet', arch='regnetx_400mf'), 384), 32, 5, 46),
    'efficientnet_b0': (lambda: classifier(
        dict(type='EfficientNet', arch='b0'), 1280), 32, 40, 2),
    'vgg11_flatten': (vgg_flatten, 64, 10, 2),
    'convnext_tiny_arch': (lambda: classifier(
        dict(type='ConvNeXt', arch=TINY_CONVNEXT), 128, neck=False),
        32, 5, 6),
    'convnext_no_layer_scale': (lambda: classifier(dict(
        type='ConvNeXt', arch=TINY_CONVNEXT, layer_scale_init_value=0.),
        128, neck=False), 32, 9, 2),
    'deit_tiny': (lambda: classifier(dict(
        type='VisionTransformer', arch='deit-tiny', img_size=32,
        patch_size=8), 192, neck=False, head='VisionTransformerClsHead'),
        32, 12, 27),
}


def analyze(model: nn.Module, size: int) -> ChannelAnalyzer:
    analyzer = ChannelAnalyzer(demo_input=(1, 3, size, size))
    analyzer.analyze(model)
    check_format(model, analyzer.units, analyzer.excluded_units,
                 analyzer.report)
    return analyzer


def tensor_forward(size: int):
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(1, 3, size, size, generator=gen)
    return lambda m: m(x, mode='tensor') if hasattr(m, 'extract_feat') \
        else m(x)[-1]


@pytest.fixture(scope='module')
def analysed():
    """``{case: (model, analyzer)}``, built and analysed once."""
    cache = {}

    def get(case: str):
        if case not in cache:
            build, size, _, _ = CASES[case]
            model = build()
            cache[case] = (model, analyze(model, size))
        return cache[case]

    return get


@pytest.mark.parametrize('case', list(CASES))
def test_unit_counts(case, analysed):
    _, analyzer = analysed(case)
    _, _, prunable, excluded = CASES[case]
    assert (len(analyzer.units), len(analyzer.excluded_units)) == (
        prunable, excluded), analyzer.summary()
    json.dumps([analyzer.units, analyzer.excluded_units, analyzer.report])
    reasons = {r['reason'] for r in analyzer.report}
    assert {'model input', 'model output'} <= reasons


def test_resnet18_coupling(analysed):
    model, a = analysed('resnet18')
    units = a.units
    stage1 = units['backbone.conv1_(0, 64)_64']
    assert names(stage1, 'output') == [
        'backbone.conv1', 'backbone.bn1', 'backbone.layer1.0.conv2',
        'backbone.layer1.0.bn2', 'backbone.layer1.1.conv2',
        'backbone.layer1.1.bn2']
    assert names(stage1, 'input') == [
        'backbone.bn1', 'backbone.layer1.0.conv1', 'backbone.layer1.0.bn2',
        'backbone.layer1.1.conv1', 'backbone.layer1.1.bn2',
        'backbone.layer2.0.conv1', 'backbone.layer2.0.downsample.0']
    stage2 = units['backbone.layer2.0.conv2_(0, 128)_128']
    assert set(names(stage2, 'output')) == {
        'backbone.layer2.0.conv2', 'backbone.layer2.0.bn2',
        'backbone.layer2.0.downsample.0', 'backbone.layer2.0.downsample.1',
        'backbone.layer2.1.conv2', 'backbone.layer2.1.bn2'}
    last = units['backbone.layer4.0.conv2_(0, 512)_512']
    assert names(last, 'input')[-1] == 'head.fc'
    for stage in range(1, 5):
        for block in range(2):
            prefix = f'backbone.layer{stage}.{block}'
            inner = next(u for n, u in units.items()
                         if n.startswith(f'{prefix}.conv1_'))
            assert names(inner, 'output') == [f'{prefix}.conv1',
                                              f'{prefix}.bn1']
            assert names(inner, 'input') == [f'{prefix}.bn1',
                                             f'{prefix}.conv2']
    assert set(a.excluded_units) == {'backbone.conv1:input_(0, 3)_3',
                                     'head.fc_(0, 10)_10'}
    check_by_pruning(model, units, tensor_forward(32))


def test_mobilenet_v2_depthwise_coupling(analysed):
    model, a = analysed('mobilenet_v2')
    unit = a.units['backbone.layer2.0.conv.0.conv_(0, 96)_96']
    prefix = 'backbone.layer2.0.conv'
    assert names(unit, 'output') == [f'{prefix}.0.conv', f'{prefix}.0.bn',
                                     f'{prefix}.1.conv', f'{prefix}.1.bn']
    assert names(unit, 'input') == [f'{prefix}.0.bn', f'{prefix}.1.conv',
                                    f'{prefix}.1.bn', f'{prefix}.2.conv']
    stream = a.units['backbone.layer2.0.conv.2.conv_(0, 24)_24']
    assert 'backbone.layer2.1.conv.2.conv' in names(stream, 'output')
    check_by_pruning(model, a.units, tensor_forward(32))


@pytest.mark.parametrize('case', ['mobilenet_v3_small', 'shufflenet_v2'])
def test_prune_check(case, analysed):
    model, a = analysed(case)
    check_by_pruning(model, a.units, tensor_forward(CASES[case][1]))


def test_vgg_flatten_linear(analysed):
    model, a = analysed('vgg11_flatten')
    unit = a.units['features.11.conv_(0, 512)_512']
    assert entries(unit, 'input') == [('classifier.0', 0, 512, 4)]
    check_by_pruning(model, a.units, tensor_forward(64))


def test_excluded_reasons(analysed):
    _, resnext = analysed('resnext50')
    assert 'group conv (32 groups)' in resnext.excluded_units[
        'backbone.layer1.0.conv1_(0, 128)_128']['reason']
    _, shufflenet = analysed('shufflenet_v2')
    assert any('channel shuffle' in u['reason']
               for u in shufflenet.excluded_units.values())
    _, convnext = analysed('convnext_tiny_arch')
    assert "'backbone.stages.0.0.gamma'" in ' '.join(
        u['reason'] for u in convnext.excluded_units.values())
    _, vit = analysed('deit_tiny')
    assert all(n.startswith('backbone.layers.') and '.ffn.' in n
               for n in vit.units)
    stream = vit.excluded_units['backbone.patch_embed.projection_(0, 192)_192']
    assert 'backbone.pos_embed' in stream['reason']
    assert 'backbone.cls_token' in stream['reason']
    qkv = vit.excluded_units['backbone.layers.0.attn.qkv_(0, 576)_576']
    assert 'attention heads' in qkv['reason']


def test_resnet50_is_fast():
    import time
    model = classifier(dict(type='ResNet', depth=50), 2048)
    analyzer = ChannelAnalyzer(demo_input=(1, 3, 224, 224))
    analyzer.analyze(model)  # warm up
    start = time.perf_counter()
    assert len(analyzer.analyze(model)) == 37
    # about 0.1 s on 2 CPU cores, little more than a plain forward
    assert time.perf_counter() - start < 5
