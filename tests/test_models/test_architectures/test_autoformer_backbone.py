# Copyright (c) OpenMMLab. All rights reserved.
"""The Autoformer supernet: MMRazor 1.0's keys and outputs, the published
subnets' sizes, static export and ONNX."""
import json
import os.path as osp

import pytest
import torch

from mmrazor.models import (
    AutoformerBackbone,
    AutoformerSubnet,
    NasMutator,
    ResourceEstimator,
)
from mmrazor.models.utils import count_mutables, export_static_model
from mmrazor.registry import MODELS
from mmrazor.structures import export_fix_subnet, load_fix_subnet
from mmrazor.structures.subnet.fix_subnet import load_subnet_dict

from ...conftest import CONFIG_DIR, REPO_ROOT
from .test_mobilenet_export import check_plain, onnx_diff, tensor_outputs

ORIGINAL = osp.join(REPO_ROOT, 'tests', 'data',
                    'original_autoformer_outputs.json')
SUBNET_B = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'autoformer',
                    'AUTOFORMER_SUBNET_B.yaml')
TINY = dict(mlp_ratios=[2.0, 3.0], num_heads=[1, 2], depth=[1, 2],
            embed_dims=[32, 48])

# The Autoformer-T/S/B spaces and searched subnets of the paper (Table 1
# and the official repository's experiments/subnet/AutoFormer-*.yaml), with
# the parameters the paper gives them (M).
PUBLISHED = dict(
    T=(dict(mlp_ratios=[3.0, 3.5, 4.0], num_heads=[3, 4],
            depth=[12, 13, 14], embed_dims=[192, 216, 240]), 192,
       [3.5, 3.5, 3.0, 3.5, 3.0, 3.0, 4.0, 4.0, 3.5, 4.0, 3.5, 4.0, 3.5],
       [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3], 5.7, 5_867_944),
    S=(dict(mlp_ratios=[3.0, 3.5, 4.0], num_heads=[5, 6, 7],
            depth=[12, 13, 14], embed_dims=[320, 384, 448]), 384,
       [3.0, 3.5, 3.0, 3.5, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.5, 4.0],
       [6, 6, 5, 7, 5, 5, 5, 6, 6, 7, 7, 6, 7], 22.9, 22_891_432),
    B=(dict(mlp_ratios=[3.0, 3.5, 4.0], num_heads=[8, 9, 10],
            depth=[14, 15, 16], embed_dims=[528, 576, 624]), 576,
       [3.5, 3.5, 4.0, 3.5, 4.0, 3.5, 3.5, 3.0, 4.0, 4.0, 3.0, 4.0, 3.0, 3.5],
       [9, 9, 9, 9, 9, 10, 9, 9, 10, 9, 10, 9, 9, 10], 53.7, 53_691_688),
)


# Small forwards run faster on one thread on a shared CPU.
pytestmark = pytest.mark.usefixtures('one_thread')


def classifier(arch: dict, **backbone) -> dict:
    return dict(
        _scope_='mmrazor',
        type='SearchableImageClassifier',
        backbone=dict(type='AutoformerBackbone', arch_setting=arch,
                      **backbone),
        head=dict(type='DynamicLinearClsHead', num_classes=1000,
                  in_channels=max(arch['embed_dims'])),
        connect_head=dict(connect_with_backbone='backbone.last_mutable'))


def deterministic_weights(model: torch.nn.Module) -> None:
    """The weights the reference outputs were computed with."""
    with torch.no_grad():
        for i, (key, p) in enumerate(sorted(model.state_dict().items())):
            if key.endswith('.mask') or not p.is_floating_point():
                continue
            value = 0.05 * torch.sin(
                0.37 * torch.arange(p.numel(), dtype=torch.float32) + i)
            if key.rsplit('.', 1)[-1] == 'weight' and '.ln' in '.' + key:
                value = value + 1
            p.copy_(value.reshape(p.shape))


def test_keys_and_outputs_are_the_originals():
    """State-dict keys and shapes, and outputs on the same weights, of
    MMRazor 1.0.0's AutoformerBackbone (recorded in its own environment)."""
    with open(ORIGINAL) as f:
        original = json.load(f)
    backbone = AutoformerBackbone(original['arch_setting'])
    backbone.eval()
    # the same keys and shapes (the masks come last here)
    assert sorted([k, list(v.shape)]
                  for k, v in backbone.state_dict().items()) == sorted(
                      original['state_dict'])
    deterministic_weights(backbone)
    x = torch.cos(0.01 * torch.arange(2 * 3 * 224 * 224,
                                      dtype=torch.float32)).reshape(
                                          2, 3, 224, 224)
    mutator = NasMutator()
    mutator.prepare_from_supernet(backbone)
    outputs = {}
    with torch.no_grad():
        outputs['max'] = backbone(x)[0]
        backbone.mutable_depth.current_choice = 2
        backbone.mutable_embed_dims.current_choice = 32
        for block, heads, ratio in zip(backbone.blocks, (1, 2), (3.0, 2.0)):
            block.attn.get_mutable_attr('num_heads').current_choice = heads
            block.mutable_mlp_ratios.current_choice = ratio
        outputs['subnet'] = backbone(x)[0]
        backbone.mutable_depth.current_choice = 1
        outputs['depth_1'] = backbone(x)[0]
    for kind, out in outputs.items():
        expected = torch.tensor(original['outputs'][kind])
        assert (out - expected).abs().max() <= 1e-5, kind


@pytest.mark.parametrize('name', ['T', 'S', 'B'])
def test_published_subnets_have_the_papers_size(name):
    """The static subnets (as the export of their supernet gives them, see
    below), with a 1000-class head."""
    arch, embed, ratios, heads, paper, exact = PUBLISHED[name]
    with torch.device('meta'):  # sizes only: nothing allocated
        subnet = AutoformerSubnet(embed, heads, ratios)
        head = torch.nn.Linear(embed, 1000)
    params = sum(p.numel() for m in (subnet, head) for p in m.parameters())
    assert params == exact
    # within 3% of the paper (T: 5.87 M, of which 0.10 M are relative
    # position tables and 0.04 M position embeddings)
    assert abs(params / 1e6 - paper) / paper <= 0.03


def test_original_subnet_file_and_resources():
    """MMRazor 1.0's searched Autoformer-B subnet (with its derived entries)
    loads; the estimator counts the supernet at that subnet as its static
    export, an AutoformerSubnet of 54.54 M parameters (the original's model
    zoo lists 54.319 M: its counter skipped the relative position tables,
    0.108 M, and the position embedding and class token, 0.114 M)."""
    supernet = MODELS.build(classifier(PUBLISHED['B'][0]))
    load_fix_subnet(supernet, SUBNET_B)
    # our files name the searched mutables only
    exported = export_fix_subnet(supernet)
    assert len(exported) == 3 + 2 * 16
    assert exported['backbone.mutable_embed_dims'] == dict(chosen=576)
    estimator = ResourceEstimator(input_shape=(1, 3, 224, 224))
    assert estimator.estimate(supernet)['params'] == pytest.approx(54.540232)
    static = export_static_model(supernet, inplace=True)
    assert type(static.backbone) is AutoformerSubnet
    assert count_mutables(static) == 0
    assert sum(p.numel() for p in static.parameters()) == 54_540_232
    chosen = load_subnet_dict(SUBNET_B)
    heads = [
        chosen[f'backbone.blocks.{i}.attn.mutable_attrs.num_heads']['chosen']
        for i in range(14)
    ]
    assert [b.attn.num_heads for b in static.backbone.blocks] == heads


@pytest.fixture(scope='module')
def tiny_supernet():
    torch.manual_seed(0)
    model = MODELS.build(classifier(TINY, img_size=64, patch_size=16,
                                    head_dims=8, drop_path_rate=0.1))
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    return model.eval(), mutator


@pytest.mark.parametrize('kind', ['min', 'max', 'random', 'random'])
def test_subnets_export(tiny_supernet, kind):
    model, mutator = tiny_supernet
    torch.manual_seed(5)
    mutator.set_choices(mutator.sample_choices(kind))
    static = export_static_model(model).eval()
    check_plain(static)
    for size in (64, 48):  # 48 px: a resized position embedding
        x = torch.randn(2, 3, size, size)
        diff = (tensor_outputs(static, x) -
                tensor_outputs(model, x)).abs().max()
        assert diff <= 1e-5, (kind, size, float(diff))
    estimate = ResourceEstimator(input_shape=(1, 3, 64, 64)).estimate
    assert estimate(model)['params'] == pytest.approx(
        estimate(static)['params'])
    assert estimate(static)['params'] == pytest.approx(
        sum(p.numel() for p in static.parameters()) / 1e6)


def test_subnet_onnx(tiny_supernet, tmp_path):
    model, mutator = tiny_supernet
    torch.manual_seed(6)
    mutator.set_choices(mutator.sample_choices())
    static = export_static_model(model).eval()
    assert onnx_diff(static, str(tmp_path / 'autoformer.onnx')) <= 1e-4


def test_bad_arch_setting():
    with pytest.raises(ValueError, match='keys'):
        AutoformerBackbone(dict(depth=[1]))
    with pytest.raises(ValueError, match=r"\['num_heads'\]"):
        AutoformerBackbone(dict(TINY, num_heads=[]))
