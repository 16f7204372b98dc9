# Copyright (c) OpenMMLab. All rights reserved.
"""Export of pruned models: parity, ONNX, and the deploy builders."""
import copy

import pytest
import torch

from mmrazor.models import utils as model_utils
from mmrazor.models.algorithms.pruning import (
    GroupFisherDeploySubModel,
    GroupFisherSubModel,
)
from mmrazor.models.utils import export_pruned_model
from mmrazor.registry import MODELS

from ..test_algorithms._prune_toy import (
    CONV1,
    CONV2,
    PARSE_CFG,
    batch,
    optim_wrapper,
    tiny_classifier,
)


def _mutator(key: str, unit: str, **unit_args) -> dict:
    return {
        key:
        dict(
            type='ChannelMutator',
            channel_unit_cfg=dict(type=unit, default_args=unit_args),
            parse_cfg=PARSE_CFG)
    }


ALGORITHMS = {
    'ItePruneAlgorithm':
    dict(
        type='ItePruneAlgorithm',
        target_pruning_ratio={CONV1: 0.5, CONV2: 0.25},
        by_epoch=False,
        **_mutator('mutator_cfg', 'L1MutableChannelUnit',
                   choice_mode='ratio')),
    'GroupFisherAlgorithm':
    dict(
        type='GroupFisherAlgorithm',
        interval=1,
        max_prunes=3,
        **_mutator('mutator', 'GroupFisherChannelUnit', mutate_linear=True)),
    'DCFF':
    dict(
        type='DCFF',
        target_pruning_ratio={CONV1: 0.5, CONV2: 0.75},
        prune_times=2,
        by_epoch=False,
        **_mutator('mutator_cfg', 'DCFFChannelUnit', choice_mode='ratio')),
}


def _trained(name: str, steps: int = 4):
    torch.manual_seed(0)
    cfg = dict(ALGORITHMS[name], architecture=tiny_classifier())
    algo = MODELS.build(cfg)
    wrapper = optim_wrapper(algo, lr=0.05)
    for i in range(steps):
        algo.train_step(batch(seed=i), wrapper)
    return algo.eval(), cfg


class _Tensor(torch.nn.Module):
    """``model(x, mode='tensor')`` as a plain forward, for ONNX."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


@pytest.mark.parametrize('name', sorted(ALGORITHMS))
def test_export_parity_onnx_and_deploy(name, tmp_path):
    algo, _ = _trained(name)
    static, structure = export_pruned_model(algo)
    assert structure == algo.pruning_structure
    assert any(v < 16 for v in structure.values())
    assert not any(hasattr(m, 'mutable_attrs') for m in static.modules())
    n_static = sum(p.numel() for p in static.parameters())
    assert n_static < sum(p.numel() for p in algo.architecture.parameters())
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        ref = algo(x, mode='tensor')
        out = static(x, mode='tensor')
    assert (out - ref).abs().max() <= 1e-5

    # the deploy model of the structure takes the exported weights
    deploy = GroupFisherDeploySubModel(
        tiny_classifier(), fix_subnet=structure, parse_cfg=PARSE_CFG).eval()
    deploy.load_state_dict(static.state_dict())  # strict: same keys, shapes
    with torch.no_grad():
        assert torch.equal(deploy(x, mode='tensor'), out)

    onnx = pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    path = str(tmp_path / 'pruned.onnx')
    torch.onnx.export(_Tensor(static).eval(), (x, ), path, dynamo=False)
    onnx.checker.check_model(onnx.load(path))
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    (result, ) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert abs(result - ref.numpy()).max() <= 1e-4


def test_sub_model_for_finetuning(tmp_path):
    algo, cfg = _trained('GroupFisherAlgorithm')
    ckpt = tmp_path / 'pruned.pth'
    torch.save({'state_dict': algo.state_dict()}, ckpt)
    cfg = copy.deepcopy(cfg)
    cfg['init_cfg'] = dict(type='Pretrained', checkpoint=str(ckpt))
    model = MODELS.build(
        dict(type='GroupFisherSubModel', algorithm=cfg)).eval()
    static, _ = export_pruned_model(algo)
    model.init_weights()  # the runner's call leaves the weights alone
    for key, value in static.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value)
    with pytest.raises(ValueError, match='divisor'):
        GroupFisherSubModel(cfg, divisor=8)


def test_structure_formats_and_errors():
    arch = tiny_classifier()
    ratios = GroupFisherDeploySubModel(
        arch, mutable_cfg={CONV1: 0.5, CONV2: {'choice': 3}},
        parse_cfg=PARSE_CFG)
    assert ratios.backbone.conv1.conv.out_channels == 4
    assert ratios.head.fc.in_features == 3
    rounded = GroupFisherDeploySubModel(
        arch, fix_subnet={CONV1: 3, CONV2: 9}, divisor=4,
        parse_cfg=PARSE_CFG)
    assert rounded.backbone.conv1.conv.out_channels == 4
    assert rounded.backbone.conv2.conv.out_channels == 12
    with pytest.raises(KeyError, match='backbone.nope'):
        GroupFisherDeploySubModel(
            arch, fix_subnet={'backbone.nope': 2}, parse_cfg=PARSE_CFG)
    with pytest.raises(ValueError, match=r'int in \[1, \d+\].*got 20'):
        GroupFisherDeploySubModel(
            arch, fix_subnet={CONV1: 20}, parse_cfg=PARSE_CFG)
    with pytest.raises(ValueError, match='not both'):
        GroupFisherDeploySubModel(arch, fix_subnet={}, mutable_cfg={})
    with pytest.raises(FileNotFoundError, match='missing.json'):
        GroupFisherDeploySubModel(arch, fix_subnet='missing.json')


def test_deploy_structure_missing_units():
    arch = tiny_classifier()
    with pytest.raises(KeyError, match='names none of the 2 channel units'):
        GroupFisherDeploySubModel(
            arch, fix_subnet={}, parse_cfg=PARSE_CFG)
    # A unit left out stays unpruned, as in the original's deploy configs.
    model = GroupFisherDeploySubModel(
        arch, fix_subnet={CONV1: 4}, parse_cfg=PARSE_CFG)
    assert model.backbone.conv1.conv.out_channels == 4
    assert model.backbone.conv2.conv.out_channels == 16


def test_builders_keep_their_old_import_path():
    assert model_utils.GroupFisherDeploySubModel is GroupFisherDeploySubModel
    assert model_utils.GroupFisherSubModel is GroupFisherSubModel
    assert MODELS.get('GroupFisherDeploySubModel') is \
        GroupFisherDeploySubModel
