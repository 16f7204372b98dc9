# Copyright (c) OpenMMLab. All rights reserved.
"""DartsBackbone, the DARTS ops, DartsSubnetClsHead and the published
subnets of the original MMRazor."""
import os.path as osp

import pytest
import torch
import yaml
from mmcls.structures import ClsDataSample
from mmengine.config import Config

from mmrazor.models.mutators import NasMutator
from mmrazor.models.utils import count_mutables, export_static_model
from mmrazor.registry import MODELS, TASK_UTILS
from mmrazor.structures import export_fix_subnet, load_fix_subnet
from mmrazor.testing.darts import darts_candidates, tiny_darts_classifier
from tests.conftest import CONFIG_DIR

DARTS_DIR = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'darts')


def test_aliases_and_252_architecture_parameters():
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, '_base_', 'nas_backbones', 'darts_supernet.py'))
    backbone = MODELS.build(cfg.nas_backbone)
    mutator = NasMutator()
    mutator.prepare_from_supernet(backbone)
    groups = mutator.search_groups
    # 2 cell types x (14 edges + 4 nodes)
    assert len(groups) == 36
    assert len(groups['normal_n2_p0']) == 6 and len(groups['reduce_n5']) == 2
    assert sum(p.numel() for p in mutator.parameters()) == 2 * (14 * 8 + 14)
    out = backbone(torch.randn(1, 3, 32, 32))
    assert [o.shape for o in out] == [torch.Size([1, 256, 8, 8])]


@pytest.mark.parametrize('stride', [1, 2])
@pytest.mark.parametrize('name', list(darts_candidates()))
def test_ops_keep_shapes(name, stride):
    cfg = dict(darts_candidates([name])[name], in_channels=4,
               out_channels=4, stride=stride)
    op = MODELS.build(cfg)
    out = op(torch.randn(2, 4, 8, 8))
    assert out.shape == (2, 4, 8 // stride, 8 // stride)


def test_bad_arguments_say_what_to_do():
    cfg = tiny_darts_classifier()['backbone']
    with pytest.raises(ValueError, match='out_indices'):
        MODELS.build(dict(cfg, out_indices=(0, )))
    with pytest.raises(ValueError, match='aux_channels'):
        MODELS.build(dict(cfg, auxiliary=True))
    with pytest.raises(ValueError, match='kernel_size'):
        MODELS.build(dict(type='mmrazor.DartsSepConv', in_channels=2,
                          out_channels=2, kernel_size=7))


def test_auxiliary_head_loss_in_training_only():
    torch.manual_seed(0)
    cfg = tiny_darts_classifier(num_layers=3)
    cfg['backbone'].update(auxiliary=True, aux_channels=8,
                           aux_out_channels=12)
    cfg['head'] = dict(type='mmrazor.DartsSubnetClsHead', num_classes=4,
                       in_channels=cfg['head']['in_channels'],
                       aux_in_channels=12, cal_acc=True)
    model = MODELS.build(cfg)
    NasMutator().prepare_from_supernet(model)
    x = torch.randn(2, 3, 32, 32)  # the tower needs >= 5x5 at 2/3 depth
    samples = [ClsDataSample().set_gt_label(i) for i in (0, 3)]
    losses = model(x, samples, mode='loss')
    assert set(losses) == {'loss', 'accuracy_top-1', 'aux_head.loss',
                           'aux_head.accuracy_top-1'}
    model.eval()
    assert model(x, mode='tensor').shape == (2, 4)


@pytest.mark.parametrize('cfg_name,yaml_name,total,no_aux,entries,flops', [
    ('darts_subnet_1xb96_cifar10_2.0.py',
     'DARTS_SUBNET_CIFAR_PAPER_ALIAS.yaml', 3827928, 3351502, 36, 547749504),
    ('darts_subnet_1xb96_cifar10_2.0_mmrazor.py',
     'DARTS_SUBNET_CIFAR_MMRAZOR_97.32.yaml', 3424440, 2948014, 24,
     483854976),
])
def test_published_subnets_count_the_original_parameters(
        cfg_name, yaml_name, total, no_aux, entries, flops):
    """The original's files load and the static model counts exactly the
    original's parameters (measured on MMRazor 1.0.0); the FLOPs at 32x32
    (eval mode: no auxiliary tower) are the DARTS guide's figures (the paper
    gives parameters only: 3.3 M)."""
    with open(osp.join(DARTS_DIR, yaml_name)) as f:
        assert len(yaml.safe_load(f)) == entries
    cfg = Config.fromfile(osp.join(DARTS_DIR, cfg_name))
    model = MODELS.build(cfg.model)
    assert count_mutables(model) == 0
    params = dict(model.named_parameters())
    assert sum(p.numel() for p in params.values()) == total
    assert sum(p.numel() for k, p in params.items()
               if 'auxliary' not in k and 'aux_linear' not in k) == no_aux
    estimator = TASK_UTILS.build(dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 32, 32),
        units=dict(flops=None, params=None)))
    counted = estimator.estimate(model.eval())
    print(f'{cfg_name}: {counted["flops"] / 1e6:.1f} MFLOPs at 32x32, '
          f'{counted["params"] / 1e6:.2f} M params (paper: 3.3 M params, '
          'no FLOPs)')
    assert counted == dict(flops=flops, params=no_aux)


def test_export_roundtrip_and_static_parity(tmp_path):
    """A derived subnet written in the original's layout (alias keys, list
    choices) loads back, and the static model computes what the fixed
    supernet computes."""
    torch.manual_seed(0)
    cfg = tiny_darts_classifier(num_layers=3, num_nodes=3)
    supernet = MODELS.build(cfg)
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    for p in mutator.parameters():
        p.data.normal_()
    choices = mutator.derive_choices()
    subnet = {k: dict(chosen=v if isinstance(v, list) else [v])
              for k, v in choices.items()}
    assert subnet['normal_n3']['chosen'] == choices['normal_n3']
    assert len(subnet['reduce_n4']['chosen']) == 2
    fixed = MODELS.build(cfg)
    fixed.load_state_dict(supernet.state_dict())
    load_fix_subnet(fixed, subnet)
    assert count_mutables(fixed) == sum(
        1 for m in fixed.modules() if getattr(m, 'is_fixed', False))
    fixed.eval()
    static = export_static_model(fixed).eval()
    assert count_mutables(static) == 0
    assert set(static.state_dict()) == set(fixed.state_dict())
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(static(x, mode='tensor'), fixed(x, mode='tensor'))
    dumped = export_fix_subnet(fixed)
    assert all(isinstance(v['chosen'], list) for v in dumped.values())


class _Logits(torch.nn.Module):

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


def test_static_subnet_runs_in_onnxruntime(tmp_path):
    onnx = pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    torch.manual_seed(0)
    cfg = tiny_darts_classifier(num_layers=3, num_nodes=3)
    model = MODELS.build(cfg)
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    subnet = {k: dict(chosen=v) for k, v in mutator.derive_choices().items()}
    load_fix_subnet(model, subnet)
    static = export_static_model(model).eval()
    x = torch.randn(2, 3, 16, 16)
    path = str(tmp_path / 'darts.onnx')
    torch.onnx.export(_Logits(static).eval(), (x, ), path, dynamo=False)
    onnx.checker.check_model(onnx.load(path))
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    (out, ) = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        ref = static(x, mode='tensor').numpy()
    assert abs(out - ref).max() <= 1e-4
