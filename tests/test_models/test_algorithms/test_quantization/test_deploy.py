# Copyright (c) OpenMMLab. All rights reserved.
"""Deployable int8 from one converted model: x86 lowering, QDQ ONNX in
onnxruntime and (where installed) OpenVINO, TensorRT's explicit Q/DQ
structure, a saved program; and the per-layer sensitivity table. Tiny
ResNet (8 channels), 32x32. The exports take 10-20 s each on 2 cores: they
are marked slow."""
import copy

import pytest
import torch

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')
pytest.importorskip('onnxruntime')

from mmrazor.models.algorithms.quantization import deploy  # noqa: E402
from mmrazor.models.algorithms.quantization.sensitivity import (  # noqa
    format_sensitivity,
    layer_sensitivity,
    most_sensitive,
    sqnr,
)
from mmrazor.registry import MODELS  # noqa: E402
from mmrazor.testing.quantization import tiny_quant_cfg  # noqa: E402


def calibrated(quantizer, seed=0, keep_float=()):
    torch.manual_seed(seed)
    cfg = tiny_quant_cfg(quantizer)
    cfg['quantizer']['keep_float'] = list(keep_float)
    model = MODELS.build(cfg)
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(8, 3, 32, 32, generator=gen))
    for m in model.quant_modules():
        m.disable_observer()
    return model


@pytest.fixture(scope='module')
def native():
    return calibrated('TorchNativeQuantizer')


@pytest.fixture(scope='module')
def openvino():
    return calibrated('OpenVINOQuantizer')


@pytest.mark.slow  # 10-20 s: export, lowering
def test_lowered_x86_agrees_with_the_fake_quantized_model(native):
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        fake = native(x)
    converted = native.get_deploy_model()
    lowered = deploy.lower_to_x86(converted, (x, ))
    with torch.no_grad():
        out = lowered(x)
    check = deploy.compare_outputs(fake, out)
    # int8 kernels requantize between layers: rounding differs by at most
    # one step of a few activations; 30 dB is about 3% relative noise
    assert check['top1_agreement'] >= 7 / 8 and check['sqnr'] > 30, check


@pytest.fixture(scope='module')
def openvino_onnx(openvino, tmp_path_factory):
    """The OpenVINOQuantizer model's converted graph and its QDQ ONNX."""
    x = torch.randn(4, 3, 32, 32)
    converted = openvino.get_deploy_model()
    path = str(tmp_path_factory.mktemp('onnx') / 'm.onnx')
    return converted, deploy.export_qdq_onnx(converted, (x, ), path)


@pytest.mark.slow  # 10-20 s: export
def test_qdq_onnx_runs_in_onnxruntime(openvino_onnx):
    converted, path = openvino_onnx
    structure = deploy.onnx_qdq_structure(path)
    assert structure['compute'] == 21 and structure['float_inputs'] == []
    # dynamic batch: another batch size runs
    check = deploy.check_onnx(path, converted, torch.randn(3, 3, 32, 32))
    assert check['top1_agreement'] == 1.0 and check['sqnr'] > 30, check
    with pytest.raises(ValueError, match="runtime='trt'; allowed"):
        deploy.check_onnx(path, converted, torch.randn(1, 3, 32, 32), 'trt')


@pytest.mark.slow  # shares the export above
def test_qdq_onnx_runs_in_openvino(openvino_onnx):
    pytest.importorskip(
        'openvino', reason='the OpenVINO runtime is not installed (pip '
        'install "mmrazor[openvino]"); its check is skipped')
    converted, path = openvino_onnx
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    check = deploy.check_onnx(path, converted, x, runtime='openvino')
    # OpenVINO runs the convs in int8 with its own requantization: its
    # rounding differs from the fake-quantized fp32 graph by about one
    # step on some activations, as lowering to x86 does (see above)
    assert check['top1_agreement'] >= 7 / 8 and check['sqnr'] > 30, check


@pytest.mark.slow  # 10-20 s: export, lowering
def test_tensorrt_explicit_qdq_structure(tmp_path):
    model = calibrated('TensorRTQuantizer')
    x = torch.randn(2, 3, 32, 32)
    path = deploy.export_qdq_onnx(model.get_deploy_model(), (x, ),
                                  str(tmp_path / 'trt.onnx'))
    structure = deploy.onnx_qdq_structure(path)
    assert structure['float_inputs'] == []
    assert structure['compute'] == 21
    # per-tensor activations and per-channel weights: one Q per activation
    # edge (weights are stored as int8 constants with a DequantizeLinear)
    assert structure['dequantize'] > structure['quantize'] > 0


@pytest.mark.slow  # 10-20 s: export, lowering
def test_saved_program_loads(openvino, tmp_path):
    x = torch.randn(2, 3, 32, 32)
    converted = openvino.get_deploy_model()
    path = deploy.save_int8_program(converted, (x, ),
                                    str(tmp_path / 'int8.pt2'))
    loaded = torch.export.load(path).module()
    with torch.no_grad():
        assert torch.allclose(loaded(x), converted(x))


def test_sensitivity_table(openvino):
    model = copy.deepcopy(openvino)
    batches = [torch.randn(4, 3, 32, 32)]
    states = [m.observer_enabled.clone() for m in model.quant_modules()]
    rows = layer_sensitivity(model, batches)
    assert len(rows) == 21
    assert [r['alone_sqnr'] for r in rows] == sorted(
        r['alone_sqnr'] for r in rows)
    assert all(r['layer_sqnr'] > 0 for r in rows)
    assert len(most_sensitive(rows, 3)) == 3
    assert format_sensitivity(rows).count('\n') == 22
    # observer and fake-quant states are restored
    assert all(
        torch.equal(s, m.observer_enabled)
        for s, m in zip(states, model.quant_modules()))
    assert all(m.fake_quant_enabled.item() == 1
               for m in model.quant_modules())


def test_keeping_the_most_sensitive_layers_in_float_helps(openvino):
    """The ranking is useful: the 3 layers it names first, kept in float
    (same weights, same calibration), bring the logits closer to fp32."""
    x = torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    rows = layer_sensitivity(copy.deepcopy(openvino), [x[:8]])
    names = most_sensitive(rows, 3)
    mixed = calibrated('OpenVINOQuantizer', keep_float=names)
    status = {r['module']: r['status'] for r in mixed.quantizer.report}
    assert [status[n] for n in names] == ['float (keep_float)'] * 3
    with torch.no_grad():
        ref = openvino.architecture(x, mode='tensor')
        assert torch.equal(ref, mixed.architecture(x, mode='tensor'))
        all_int8, partly = sqnr(ref, openvino(x)), sqnr(ref, mixed(x))
    # 43.3 -> 44.5 dB here
    assert partly > all_int8 + 0.5, (partly, all_int8)


@pytest.mark.slow  # the one torch.compile test: 30-60 s on 2 cores
def test_compiled_int8_agrees(native):
    x = torch.randn(4, 3, 32, 32)
    converted = native.get_deploy_model()
    compiled = deploy.compile_int8(converted, (x, ))
    with torch.no_grad():
        check = deploy.compare_outputs(converted(x), compiled(x))
    assert check['top1_agreement'] >= 3 / 4 and check['sqnr'] > 30, check
