# Copyright (c) OpenMMLab. All rights reserved.
"""The qconfig language -> torchao specs, and its errors."""
import pytest
import torch

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

from mmrazor.models.quantizers.qconfig import (  # noqa: E402
    QConfigHandler,
    parse_qscheme,
)
from mmrazor.testing.quantization import qconfig  # noqa: E402


@pytest.mark.parametrize('cfg,expected', [
    (dict(qdtype='qint8', bit=8, is_symmetric_range=True), (-127, 127)),
    (dict(qdtype='qint8', bit=8), (-128, 127)),
    (dict(qdtype='quint8', bit=8), (0, 255)),
    (dict(qdtype='qint8', bit=4, is_symmetric_range=True), (-7, 7)),
    (dict(qdtype='quint8', bit=2), (0, 3)),
])
def test_grid(cfg, expected):
    scheme = parse_qscheme(cfg, 'w_qscheme', is_per_channel=False)
    assert (scheme.quant_min, scheme.quant_max) == expected


def test_original_config_translates():
    handler = QConfigHandler(qconfig())
    w, a = handler.weight_spec, handler.activation_spec
    assert w.dtype == torch.int8 and (w.quant_min, w.quant_max) == (-127,
                                                                    127)
    assert w.qscheme == torch.per_channel_symmetric and w.ch_axis == 0
    assert a.dtype == torch.uint8 and a.qscheme == torch.per_tensor_symmetric
    fq = a.observer_or_fake_quant_ctr(
        dtype=a.dtype, quant_min=0, quant_max=255, qscheme=a.qscheme)
    # averaging_constant reaches the observer
    assert fq.activation_post_process.averaging_constant == 0.1
    assert type(fq).__name__ == 'FakeQuantize'


@pytest.mark.parametrize('key,value,match', [
    ('qdtype', 'int4', r'`w_qscheme.qdtype` is .int4.; allowed'),
    ('bit', 9, r'`w_qscheme.bit` is 9; allowed: integers 2 to 8'),
    ('bit', 1, r'`w_qscheme.bit` is 1'),
])
def test_bad_qscheme(key, value, match):
    cfg = qconfig()
    cfg['w_qscheme'][key] = value
    with pytest.raises(ValueError, match=match):
        QConfigHandler(cfg)


def test_unknown_observer_argument():
    cfg = qconfig()
    cfg['w_qscheme']['averaging_constant'] = 0.1  # per-channel min/max
    with pytest.raises(ValueError, match='does not take'):
        QConfigHandler(cfg)


def test_unknown_type_and_missing_key():
    cfg = qconfig()
    cfg['a_observer'] = dict(type='mmrazor.NoSuchObserver')
    with pytest.raises(KeyError, match='NoSuchObserver.*known'):
        QConfigHandler(cfg)
    cfg = qconfig()
    del cfg['w_fake_quant']
    with pytest.raises(KeyError, match="lacks \\['w_fake_quant'\\]"):
        QConfigHandler(cfg)
