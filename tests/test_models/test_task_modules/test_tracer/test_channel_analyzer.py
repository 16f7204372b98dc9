# Copyright (c) OpenMMLab. All rights reserved.
"""ChannelAnalyzer on tiny hand-written models, and its API."""
import json

import pytest
import torch
import torch.nn as nn

from mmrazor.models import ChannelAnalyzer
from mmrazor.registry import TASK_UTILS

from . import toy_models as toys
from .conftest import check_format, entries, names
from .prune_check import check_by_pruning

SHAPE = (1, 3, 16, 16)


def run(model: nn.Module, **kwargs) -> ChannelAnalyzer:
    analyzer = ChannelAnalyzer(demo_input=kwargs.pop('demo_input', SHAPE),
                               **kwargs)
    analyzer.analyze(model)
    check_format(model, analyzer.units, analyzer.excluded_units,
                 analyzer.report)
    return analyzer


def forward(model: nn.Module) -> torch.Tensor:
    return model(torch.rand(SHAPE, generator=torch.Generator().manual_seed(3)))


def test_cat_chunk_and_fixed_split():
    model = toys.CatSplitChunk()
    a = run(model)
    units = a.units
    assert list(units) == ['a.0_(0, 8)_8', 'b.0_(0, 8)_8', 'c.0_(0, 8)_8',
                           'd.0_(0, 4)_4']
    # cat: each producer owns its range of c's input
    assert entries(units['a.0_(0, 8)_8'], 'input') == [('a.1', 0, 8, 1),
                                                       ('c.0', 0, 8, 1)]
    assert entries(units['b.0_(0, 8)_8'], 'input') == [('b.1', 0, 8, 1),
                                                       ('c.0', 8, 16, 1)]
    # chunk(2) then add: both halves of c are one unit of 8 channels
    c = units['c.0_(0, 8)_8']
    assert entries(c, 'output') == [('c.0', 0, 8, 1), ('c.0', 8, 16, 1),
                                    ('c.1', 0, 8, 1), ('c.1', 8, 16, 1)]
    assert entries(c, 'input')[-1] == ('d.0', 0, 8, 1)
    # split with fixed sizes: not prunable, reported
    assert set(a.excluded_units) == {'a.0:input_(0, 3)_3', 'g.0_(0, 2)_2',
                                     'g.0_(2, 6)_4', 'f_(0, 5)_5'}
    assert 'fixed sizes [2, 4]' in a.excluded_units['g.0_(2, 6)_4'][
        'reason']
    check_by_pruning(model, units, forward)


def test_se_gate_multiply():
    model = toys.SEGate()
    units = run(model).units
    assert list(units) == ['conv1_(0, 16)_16', 'fc1_(0, 4)_4']
    gate = units['conv1_(0, 16)_16']
    assert names(gate, 'output') == ['conv1', 'bn1', 'fc2']
    assert names(gate, 'input') == ['bn1', 'fc1', 'conv2']
    check_by_pruning(model, units, forward)


def test_flatten_linear_expand_ratio():
    model = toys.FlattenLinear()
    units = run(model).units
    assert entries(units['conv_(0, 8)_8'], 'input') == [('bn', 0, 8, 1),
                                                        ('fc1', 0, 8, 16)]
    assert entries(units['fc1_(0, 32)_32'], 'input') == [('fc2', 0, 32, 1)]
    check_by_pruning(model, units, forward)


def test_channel_shuffle_is_reported():
    model = toys.Shuffle()
    a = run(model)
    assert list(a.units) == ['conv2.0_(0, 8)_8', 'side.0_(0, 6)_6']
    shuffled = [n for n, u in a.excluded_units.items()
                if 'channel shuffle' in u['reason']]
    assert shuffled == ['conv1.0_(0, 8)_8', 'conv2.0:input_(0, 8)_8']
    entry = next(r for r in a.report if 'channel shuffle' in r['reason'])
    assert entry['op'] == 'torch.Tensor.view'
    check_by_pruning(model, a.units, forward)


def test_permute_channel_last():
    model = toys.ChannelLast()
    units = run(model).units
    stream = units['stem_(0, 8)_8']
    assert names(stream, 'output') == ['stem', 'dw', 'norm', 'pw2']
    assert names(stream, 'input') == ['dw', 'norm', 'pw1', 'head']
    assert entries(units['pw1_(0, 32)_32'], 'input') == [('pw2', 0, 32, 1)]
    # LayerNorm over the channels: compare shapes only
    check_by_pruning(model, units, forward, exact=False)


def test_numpy_round_trip_is_reported():
    model = toys.NumpyOp()
    a = run(model)
    assert list(a.units) == ['conv1.0_(0, 8)_8', 'conv3.0_(0, 8)_8']
    assert 'numpy()' in a.excluded_units['conv2.0_(0, 8)_8']['reason']
    entry = next(r for r in a.report if r['channels'] ==
                 'conv3.0:input_(0, 8)_8')
    assert entry['module'] == 'conv3.0'
    assert 'do not come from a traced module output' in entry['reason']


def test_unknown_op_is_reported():
    a = run(toys.UnknownOp())
    assert list(a.units) == ['conv2_(0, 8)_8']
    entry = next(r for r in a.report if r['channels'] == 'conv1_(0, 16)_16')
    assert entry['op'] == 'torch.pixel_shuffle'
    assert 'not supported' in entry['reason']


def test_failing_forward_gives_no_units():
    a = run(toys.Failing())
    assert a.units == {} and a.excluded_units == {}
    assert len(a.report) == 1
    assert 'boom: this model cannot run' in a.report[0]['reason']
    assert a.report[0]['channels'] is None


def test_shared_module_and_group_norm():
    a = run(toys.SharedConv())
    unit = a.units['a_(0, 8)_8']
    assert entries(unit, 'output') == [('a', 0, 8, 1), ('b', 0, 8, 1)]
    assert entries(unit, 'input') == [('shared', 0, 8, 1)]
    check_by_pruning(toys.SharedConv(), a.units, forward)
    gn = run(toys.GroupNormNet())
    assert list(gn.units) == ['conv2_(0, 8)_8']
    assert 'multiple of 4' in gn.excluded_units['conv1_(0, 8)_8']['reason']


def test_multihead_attention_tokens():
    a = run(toys.HeadsAttention())
    assert list(a.units) == ['fc1_(0, 32)_32']
    stream = a.excluded_units['embed_(0, 16)_16']
    assert names(stream, 'output') == ['embed', 'norm', 'fc2']
    assert 'heads' in stream['reason']


def test_misc_ops():
    model = toys.MiscOps()
    a = run(model)
    units = a.units
    assert list(units) == ['a_(0, 8)_8', 'c_(0, 4)_4', 'd_(0, 6)_6',
                           'e_(0, 12)_12', 'f_(0, 8)_8']
    # stack + sum links a and b; a reduction over channels reads them
    assert names(units['a_(0, 8)_8'], 'output') == ['a', 'b']
    # padding the channel dim adds constant channels around c's
    assert entries(units['c_(0, 4)_4'], 'input') == [('d', 1, 5, 1)]
    assert a.excluded_units['d:input_(5, 6)_1']['reason'] == (
        'padding added along the channel dim')
    # repeat: f reads e's channels twice
    assert entries(units['e_(0, 12)_12'], 'input') == [('f', 0, 12, 1),
                                                       ('f', 12, 24, 1)]
    # a full setitem into zeros_like(f) keeps f's channels
    assert entries(units['f_(0, 8)_8'], 'input') == [('g', 0, 8, 1)]
    assert "parameter/buffer 'proj'" in a.excluded_units['g_(0, 8)_8'][
        'reason']
    check_by_pruning(model, units, forward, exact=False)


def test_json_serialisable_and_deterministic():
    model = toys.CatSplitChunk()
    first = run(model)
    second = run(model)
    assert json.loads(json.dumps(first.units)) == first.units
    assert json.dumps(first.units) == json.dumps(second.units)
    assert json.dumps(first.excluded_units) == json.dumps(
        second.excluded_units)
    assert first.report == second.report
    assert json.loads(json.dumps(first.report)) == first.report


def test_training_flags_restored():
    model = toys.SEGate().train()
    model.fc1.eval()
    run(model)
    assert model.training and model.bn1.training and not model.fc1.training
    assert all(p.grad is None for p in model.parameters())


def test_demo_input_forms():
    model = toys.SEGate()
    units = run(model).units
    as_dict = run(model, demo_input=dict(type='DefaultDemoInput',
                                         input_shape=SHAPE))
    assert as_dict.units == units
    assert run(model, demo_input=torch.rand(SHAPE)).units == units
    # a callable runs the forward itself; its input is not traced
    called = run(model, demo_input=lambda m: m(torch.rand(SHAPE)))
    assert called.units == units
    assert 'model input' not in [r['reason'] for r in called.report]
    assert called.report[0]['module'] == 'conv1'


def test_token_input():
    """A 3-d input may hold its channels in dim 1 or 2: its readers get
    non-prunable input channels."""
    model = nn.Sequential(nn.LayerNorm(16), nn.Linear(16, 32), nn.GELU(),
                          nn.Linear(32, 8))
    a = run(model, demo_input=(1, 10, 16))
    assert list(a.units) == ['1_(0, 32)_32']
    assert a.excluded_units['1:input_(0, 16)_16']['reason'] == 'model input'


def test_extract_feat_fallback():

    class Detector(nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(),
                                          nn.Conv2d(8, 8, 3))
            self.head = nn.Conv2d(8, 2, 1)

        def extract_feat(self, x):
            return self.backbone(x)

        def _forward(self, x, data_samples=None):
            raise ValueError('needs data samples')

    a = run(Detector())
    assert list(a.units) == ['backbone.0_(0, 8)_8']
    assert a.report[0]['reason'].startswith('model._forward(inputs) failed '
                                            '(ValueError: needs data samples)')


def test_tracer_types_and_registry():
    model = toys.SEGate()
    fx = run(model, tracer_type='FxTracer')
    built = TASK_UTILS.build(dict(type='ChannelAnalyzer', demo_input=SHAPE,
                                  tracer_type='BackwardTracer'))
    assert built.analyze(model) == fx.units
    text = fx.summary()
    assert 'FxTracer' in text and 'fc1_(0, 4)_4' in text
    assert 'model output' in text


@pytest.mark.parametrize('kwargs, match', [
    (dict(tracer_type='Torchscript'), "tracer_type 'Torchscript'"),
    (dict(demo_input=(1, 3, 0, 4)), 'input shape of positive ints'),
    (dict(demo_input=dict(type='MyInput')), "type 'MyInput'"),
    (dict(demo_input=dict(input_shape=SHAPE, size=3)), "unknown keys"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ChannelAnalyzer(**kwargs)
    with pytest.raises(TypeError, match='needs an nn.Module'):
        ChannelAnalyzer().analyze('resnet')
