# Copyright (c) OpenMMLab. All rights reserved.
"""MMArchitectureQuant: one exported graph for every mode, built from the
registry around a tiny ResNet (8 channels, 32x32)."""
import copy
import subprocess
import sys

import pytest
import torch
from mmcls.structures import ClsDataSample

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

from mmrazor.models.algorithms.quantization import _pt2e  # noqa: E402
from mmrazor.models.algorithms.quantization.deploy import compare_outputs  # noqa: E402
from mmrazor.models.algorithms.quantization.sensitivity import sqnr  # noqa: E402
from mmrazor.registry import MODELS  # noqa: E402
from mmrazor.testing.quantization import tiny_quant_cfg  # noqa: E402


def samples(n):
    return [ClsDataSample().set_gt_label(i % 10) for i in range(n)]


def calibrate(model, batches=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    for m in model.quant_modules():
        m.enable_observer()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(8, 3, 32, 32, generator=gen))
    for m in model.quant_modules():
        m.disable_observer()
    return model


@pytest.fixture(scope='module')
def built():
    torch.manual_seed(0)
    return MODELS.build(tiny_quant_cfg('OpenVINOQuantizer'))


@pytest.fixture
def model(built):
    return copy.deepcopy(built)


def test_parameters_are_shared_with_the_float_architecture(model):
    arch = dict(model.architecture.named_parameters())
    graph = dict(model.qmodel.named_parameters())
    weight = 'architecture.backbone.conv1.weight'
    assert graph[weight] is arch['backbone.conv1.weight']
    assert model.input_shapes == (1, 3, 32, 32)


def test_modes(model):
    x = torch.randn(3, 3, 32, 32)
    model.train()
    losses = model(x, samples(3), mode='loss')
    assert set(losses) == {'loss'} and losses['loss'].requires_grad
    losses['loss'].backward()
    assert model.architecture.backbone.conv1.weight.grad is not None
    model.eval()
    logits = model(x)
    assert logits.shape == (3, 10)
    preds = model(x, samples(3), mode='predict')
    assert len(preds) == 3 and preds[0].pred_label.score.shape == (10, )
    # batch size is free, spatial size fixed
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)
    with pytest.raises(ValueError, match=r'exported for inputs \(N, 3, 32, '
                       r'32\), got \(1, 3, 64, 64\); set `input_shapes`'):
        model(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match="invalid mode 'x'"):
        model(x, mode='x')


def test_eval_switches_batch_norm(model):
    x = torch.randn(4, 3, 32, 32)
    calibrate(model)
    model.eval()
    with torch.no_grad():
        a, b = model(x), model(x[:2])
    # eval: per-sample outputs, independent of the batch
    assert torch.allclose(a[:2], b, atol=1e-5)
    model.train()
    with torch.no_grad():
        c = model(x[:2])
    assert not torch.allclose(c, b, atol=1e-3)


def test_calibrated_graph_is_close_to_float_and_converts(model):
    calibrate(model)
    model.eval()
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        fake = model(x)
        float_logits = model.architecture(x, mode='tensor')
    assert sqnr(float_logits, fake) > 15
    converted = model.get_deploy_model()
    with torch.no_grad():
        out = converted(x)
    check = compare_outputs(fake, out)
    assert check['top1_agreement'] == 1.0 and check['sqnr'] > 60, check
    # conversion works on a copy
    assert _pt2e.quant_modules(model.qmodel)


def test_freeze_bn_stats_survives_train_calls(model):
    bn = model.architecture.backbone.bn1
    model.train()
    model.freeze_bn_stats()
    before = bn.running_mean.clone()
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, 32, 32) * 5 + 3)
    assert torch.equal(bn.running_mean, before)


def test_state_dict_round_trip(model, built):
    calibrate(model)
    fresh = copy.deepcopy(built)
    fresh.load_state_dict(model.state_dict())
    model.eval()
    fresh.eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), fresh(x))


def test_float_checkpoint(tmp_path, built):
    arch = copy.deepcopy(built.architecture)
    with torch.no_grad():
        arch.backbone.conv1.weight.fill_(0.5)
    path = str(tmp_path / 'float.pth')
    torch.save(dict(state_dict=arch.state_dict()), path)
    cfg = tiny_quant_cfg('OpenVINOQuantizer')
    cfg['float_checkpoint'] = path
    model = MODELS.build(cfg)
    assert torch.all(model.architecture.backbone.conv1.weight == 0.5)
    graph_weight = model.qmodel.get_parameter(
        'architecture.backbone.conv1.weight')
    assert torch.all(graph_weight == 0.5)


@MODELS.register_module(force=True)
class _BranchyBackbone(torch.nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 64, 3)

    def forward(self, x):
        y = self.conv(x)
        if y.mean() > 0:  # data-dependent branch: not exportable
            y = y * 2
        return (y, )


def test_unexportable_model_is_named():
    cfg = tiny_quant_cfg('OpenVINOQuantizer')
    cfg['architecture']['backbone'] = dict(type='mmrazor._BranchyBackbone')
    with pytest.raises(RuntimeError) as info:
        MODELS.build(cfg)
    message = str(info.value)
    assert "torch.export cannot capture the tensor path (mode='tensor') " \
        'of ImageClassifier' in message
    assert 'test_mm_architecture_quant.py' in message
    assert 'move data-dependent Python' in message


def test_import_without_torchao():
    code = (
        "import sys; sys.modules['torchao'] = None\n"
        'import mmrazor, mmrazor.models, mmrazor.engine\n'
        'from mmrazor.registry import MODELS\n'
        'from mmrazor.testing.quantization import tiny_quant_cfg\n'
        'try:\n'
        "    MODELS.build(tiny_quant_cfg('OpenVINOQuantizer'))\n"
        'except ImportError as e:\n'
        '    print(e)\n')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'pip install "mmrazor[quant]"' in out.stdout


def test_lsq_every_step_size_gets_a_gradient():
    from mmrazor.models.fake_quants import (
        LearnableFakeQuantize,
        enable_param_learning,
        enable_static_estimate,
    )
    torch.manual_seed(0)
    model = MODELS.build(tiny_quant_cfg('OpenVINOQuantizer', lsq=True))
    model.train()
    x = torch.randn(4, 3, 32, 32)
    model.apply(enable_static_estimate)
    with torch.no_grad():
        model(x)
    model.apply(enable_param_learning)
    model(x, samples(4), mode='loss')['loss'].backward()
    lsq = [m for m in model.quant_modules()
           if isinstance(m, LearnableFakeQuantize)]
    assert len(lsq) == len(model.quant_modules()) > 20
    for m in lsq:
        assert m.scale.grad is not None and torch.isfinite(m.scale.grad).all()
        assert m.scale.grad.abs().sum() > 0
