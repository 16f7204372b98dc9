# Copyright (c) OpenMMLab. All rights reserved.
"""Subnets of the MobileNet spaces export to plain models with the same
outputs, in PyTorch and through ONNX."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmrazor.models import (
    BaseMutable,
    DerivedMutable,
    DynamicOpMixin,
    InputResizer,
    NasMutator,
)
from mmrazor.models.utils import export_static_model
from mmrazor.registry import MODELS

from ...conftest import CONFIG_DIR

BIGNAS = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'bignas',
                  'attentive_mobilenet_supernet_32xb64_in1k.py')
SPOS = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'spos',
                'spos_mobilenet_supernet_8xb128_in1k.py')
INPUT = (1, 3, 64, 64)


# Small forwards run faster on one thread on a shared CPU.
pytestmark = pytest.mark.usefixtures('one_thread')


def randomize_norms(model: nn.Module) -> None:
    """Running statistics and affine parameters away from their defaults,
    so that every sliced channel matters."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)


@pytest.fixture(scope='module')
def bignas_supernet():
    """The full BigNAS classifier, input sizes shrunk to 48-64 px."""
    cfg = Config.fromfile(BIGNAS).supernet
    cfg.input_resizer_cfg.mutable_shape.update(
        value_list=[[48, 48], [56, 56], [64, 64]], default_value=[64, 64])
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    randomize_norms(model)
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    return model.eval(), mutator


@pytest.fixture(scope='module')
def spos_supernet():
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(SPOS).model.architecture)
    randomize_norms(model)
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    return model.eval(), mutator


def check_plain(static: nn.Module) -> None:
    """Only plain ops: no mutable, derived mutable or dynamic op."""
    for name, module in static.named_modules():
        assert not isinstance(module, (BaseMutable, DerivedMutable,
                                       DynamicOpMixin)), name


def tensor_outputs(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x, mode='tensor')


@pytest.mark.parametrize('kinds', [['min', 'max'] + ['random'] * 10])
def test_bignas_subnets_export(bignas_supernet, kinds):
    model, mutator = bignas_supernet
    full = sum(p.numel() for p in model.parameters())
    x = torch.randn(INPUT)
    torch.manual_seed(1)
    for kind in kinds:
        choices = mutator.sample_choices(kind)
        mutator.set_choices(choices)
        static = export_static_model(model).eval()
        check_plain(static)
        assert isinstance(static.input_resizer, InputResizer)
        assert static.input_resizer.size == tuple(choices['input_shape'])
        assert sum(p.numel() for p in static.parameters()) < full
        reference = tensor_outputs(model, x)
        diff = (tensor_outputs(static, x) - reference).abs().max()
        assert diff <= 1e-5, (kind, float(diff))
        # the features before the head too (larger values than the logits)
        with torch.no_grad():
            feats = static.extract_feat(x)[0]
            diff = (feats - model.extract_feat(x)[0]).abs().max()
        assert diff <= 1e-5, (kind, float(diff))


def test_spos_subnet_export_is_plain(spos_supernet):
    model, mutator = spos_supernet
    mutator.set_choices(mutator.sample_choices())
    check_plain(export_static_model(model))


class _Tensor(nn.Module):

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, mode='tensor')


def onnx_diff(static: nn.Module, path: str) -> float:
    onnx = pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    x = torch.randn(INPUT)
    torch.onnx.export(_Tensor(static).eval(), (x, ), path, dynamo=False)
    onnx.checker.check_model(onnx.load(path))
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    (out, ) = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})
    return float(abs(out - tensor_outputs(static, x).numpy()).max())


@pytest.mark.parametrize('kind', ['max', 'random'])
def test_bignas_subnet_onnx(bignas_supernet, kind, tmp_path):
    model, mutator = bignas_supernet
    torch.manual_seed(2)
    mutator.set_choices(mutator.sample_choices(kind))
    static = export_static_model(model).eval()
    assert onnx_diff(static, str(tmp_path / 'subnet.onnx')) <= 1e-4


def test_spos_mobilenet_subnet_onnx(spos_supernet, tmp_path):
    model, mutator = spos_supernet
    torch.manual_seed(2)
    mutator.set_choices(mutator.sample_choices())
    static = export_static_model(model).eval()
    assert onnx_diff(static, str(tmp_path / 'subnet.onnx')) <= 1e-4
