# Copyright (c) OpenMMLab. All rights reserved.
"""Each quantizer's placement of quantize/dequantize pairs, and its limits.

Built through the registry on a tiny ResNet-18 layout (8 channels, 32x32):
residual additions, downsample convs, global pooling and a linear head.
"""
import pytest
import torch

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

import mmrazor.models.quantizers._annotate as annotate  # noqa: E402
from mmrazor.models.quantizers._annotate import (  # noqa: E402
    ADD_OPS,
    POOL_OPS,
    _is_activation,
    _quantized_input,
)
from mmrazor.registry import MODELS  # noqa: E402
from mmrazor.testing.quantization import (  # noqa: E402
    qconfig,
    quantizer_cfg,
    tiny_quant_cfg,
)

QUANTIZERS = ('TorchNativeQuantizer', 'OpenVINOQuantizer',
              'TensorRTQuantizer', 'AcademicQuantizer')


def build(quantizer='OpenVINOQuantizer', **kwargs):
    cfg = tiny_quant_cfg(quantizer)
    cfg['quantizer'].update(kwargs)
    return MODELS.build(cfg)


def quantized_inputs(model, targets):
    """For each node with a target in ``targets``: how many of its first
    activation inputs come through a fake quantizer (the residual adds
    and the pooling of the graph, not the batch-norm bookkeeping)."""
    gm = model.qmodel
    counts = []
    for node in gm.graph.nodes:
        if node.op == 'call_function' and node.target in targets:
            args = [a for a in node.args[:2] if _is_activation(a)
                    or _quantized_input(gm, a, depth=1)]
            if node.target in ADD_OPS and len(args) < 2:
                continue
            counts.append(sum(_quantized_input(gm, a, depth=1)
                              for a in args))
    return counts


class _Built(dict):
    """One model per quantizer, built on first use."""

    def __missing__(self, name):
        self[name] = build(name)
        return self[name]


@pytest.fixture(scope='module')
def built():
    return _Built()


@pytest.mark.parametrize('name', QUANTIZERS)
def test_every_conv_and_linear_is_int8(built, name):
    report = built[name].quantizer.report
    # 20 convs (17 + 3 downsample) and the head's linear
    assert len(report) == 21
    assert {r['status'] for r in report} == {'int8'}, report
    assert report[-1]['module'] == 'head.fc'


def test_openvino_quantizes_both_add_inputs_and_pooling(built):
    adds = quantized_inputs(built['OpenVINOQuantizer'], ADD_OPS)
    assert len(adds) == 8 and set(adds) == {2}
    assert set(quantized_inputs(built['OpenVINOQuantizer'],
                                POOL_OPS)) == {1}


def test_tensorrt_quantizes_the_residual_input_only(built):
    adds = quantized_inputs(built['TensorRTQuantizer'], ADD_OPS)
    assert len(adds) == 8 and set(adds) == {1}
    assert set(quantized_inputs(built['TensorRTQuantizer'],
                                POOL_OPS)) == {0}


def test_keep_float_is_reported_not_warned(monkeypatch):
    messages = []
    monkeypatch.setattr(annotate, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    model = build(keep_float=['backbone.conv1', 'architecture.head'])
    status = {r['module']: r['status'] for r in model.quantizer.report}
    assert status['backbone.conv1'] == 'float (keep_float)'
    assert status['head.fc'] == 'float (keep_float)'
    assert status['backbone.layer1.0.conv1'] == 'int8'
    assert messages == []


def test_native_keep_float():
    # a conv followed by a batch norm too: QAT's conv + bn rewrite must
    # accept x86's "not quantized" mark on it
    model = build('TorchNativeQuantizer',
                  keep_float=['head', 'backbone.conv1'])
    status = {r['module']: r['status'] for r in model.quantizer.report}
    assert status['head.fc'] == 'float (keep_float)'
    assert status['backbone.conv1'] == 'float (keep_float)'
    assert status['backbone.layer1.0.conv1'] == 'int8'
    assert list(status.values()).count('int8') == 19
    model.eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_uncovered_ops_are_named(monkeypatch):
    messages = []
    monkeypatch.setattr(annotate, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    q = qconfig()
    cfg = tiny_quant_cfg('AcademicQuantizer')
    cfg['quantizer']['qconfig_mapping'] = dict(
        _global_=q, object_type=[('torch.nn.Linear', None)])
    model = MODELS.build(cfg)
    status = {r['module']: r['status'] for r in model.quantizer.report}
    assert status['head.fc'] == 'float (not covered)'
    assert len(messages) == 1
    assert 'leaves 1 of 21 compute ops in float' in messages[0]
    assert 'head.fc (aten.linear.default)' in messages[0]


def test_academic_bits_per_module_name():
    w4a4 = qconfig(bit=4)
    cfg = tiny_quant_cfg('AcademicQuantizer')
    cfg['quantizer']['qconfig_mapping']['module_name'] = [('head', w4a4)]
    model = MODELS.build(cfg)
    gm = model.qmodel
    ranges = {}
    for node in gm.graph.nodes:
        if node.op == 'call_function' and 'linear' in str(node.target):
            weight_fq = gm.get_submodule(node.args[1].target)
            ranges['head'] = (weight_fq.quant_min, weight_fq.quant_max)
        if node.op == 'call_function' and 'conv' in str(node.target):
            ranges.setdefault('conv', [])
    assert ranges['head'] == (-7, 7)
    fq = [m for m in model.quant_modules()]
    assert any(m.quant_max == 127 for m in fq)


@pytest.mark.parametrize('name,key,value,match', [
    ('TensorRTQuantizer', 'a_qdtype', 'quint8', r'`a_qscheme.qdtype` is '
     r"'quint8', which TensorRTQuantizer cannot run; allowed: \['qint8'\]"),
    ('TorchNativeQuantizer', 'bit', 4,
     r'`w_qscheme.bit` is 4, which TorchNativeQuantizer cannot run'),
    ('OpenVINOQuantizer', 'bit', 4, r'`w_qscheme.bit` is 4'),
])
def test_backend_limits(name, key, value, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(quantizer_cfg(name, **{key: value}))


def test_tracer_is_accepted_and_ignored(capsys):
    cfg = quantizer_cfg('OpenVINOQuantizer')
    cfg['tracer'] = dict(type='mmrazor.CustomTracer', skipped_methods=[])
    quantizer = MODELS.build(cfg)
    assert quantizer.backend == 'openvino'
