# Copyright (c) OpenMMLab. All rights reserved.
"""ResourceEstimator: published figures, mmcv parity, units and errors."""
import copy
from unittest import mock

import pytest
import torch
import torch.nn as nn

from mmrazor.models import ResourceEstimator, export_static_model
from mmrazor.models.task_modules.estimators import flops_params_counter
from mmrazor.registry import MODELS, TASK_UTILS

RAW = dict(flops=None, params=None)

# SPOS_SUBNET.yaml at 224x224 (published: 0.33 GFLOPs, 3.35 M params;
# the original MMRazor counts 327,544,320 FLOPs and 3,353,592 params).
SPOS_CONV_MACS = 314_995_520
SPOS_FC_MACS = 1_024_000
SPOS_BN = 8_529_920
SPOS_RELU = 2_944_704
SPOS_POOL = 50_176
SPOS_FLOPS = 327_544_320
SPOS_PARAMS = 3_353_592


def _mmcv_counts(model: nn.Module, input_shape: tuple) -> tuple:
    """FLOPs and params by mmcv's ``get_model_complexity_info``."""
    from mmcv.cnn.utils import get_model_complexity_info
    return get_model_complexity_info(
        copy.deepcopy(model).eval(),
        input_shape,
        print_per_layer_stat=False,
        as_strings=False)


class _Tensor(nn.Module):
    """Calls ``model(x, mode='tensor')`` for mmcv's counter."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


@pytest.fixture(scope='module')
def spos_static(imagenet_supernet, spos_subnet_choices):
    supernet, mutator = imagenet_supernet
    mutator.set_choices(spos_subnet_choices)
    return export_static_model(supernet).eval()


def test_spos_subnet_figures(spos_static):
    raw = ResourceEstimator(units=RAW).estimate(spos_static)
    assert raw == dict(flops=SPOS_FLOPS, params=SPOS_PARAMS)
    assert SPOS_FLOPS == (SPOS_CONV_MACS + SPOS_FC_MACS + SPOS_BN +
                          SPOS_RELU + SPOS_POOL)
    res = ResourceEstimator().estimate(spos_static)  # 'M' by default
    assert res['flops'] == pytest.approx(327.54432, rel=1e-12)
    assert f"{res['params']:.4g}" == '3.354'
    assert abs(res['params'] / 3.35 - 1) < 0.005
    giga = ResourceEstimator(units=dict(flops='G')).estimate(spos_static)
    assert round(giga['flops'], 2) == 0.33
    # Pure conv + FC MACs (the SPOS paper's convention, 319 M there).
    macs = ResourceEstimator(units=RAW).estimate(
        spos_static,
        dict(disabled_counters=['norm', 'activation', 'pooling']))
    assert macs['flops'] == SPOS_CONV_MACS + SPOS_FC_MACS


def test_spos_subnet_matches_mmcv(spos_static):
    flops, params = _mmcv_counts(_Tensor(spos_static), (3, 224, 224))
    assert (flops, params) == (SPOS_FLOPS, SPOS_PARAMS)


def test_supernet_at_subnet_equals_static(imagenet_supernet,
                                          spos_subnet_choices, spos_static):
    supernet, mutator = imagenet_supernet
    mutator.set_choices(spos_subnet_choices)
    estimator = ResourceEstimator(units=RAW)
    assert estimator.estimate(supernet) == estimator.estimate(spos_static)
    total = sum(p.numel() for p in supernet.parameters())
    assert total > 2 * SPOS_PARAMS  # the other candidates are not counted


def test_resnet18_published_figures():
    model = MODELS.build(
        dict(
            _scope_='mmcls',
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=1000, in_channels=512)))
    raw = ResourceEstimator(units=RAW).estimate(model)
    assert raw == dict(flops=1_822_176_768, params=11_689_512)
    res = ResourceEstimator(units=dict(flops='G')).estimate(model)
    assert round(res['flops'], 2) == 1.82
    assert round(res['params'], 2) == 11.69


def _zoo():
    return {
        'conv_norm_act_pool': (nn.Sequential(
            nn.Conv2d(3, 8, 3, bias=True), nn.BatchNorm2d(8), nn.ReLU6(),
            nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, groups=4, bias=False),
            nn.GroupNorm(2, 8), nn.LeakyReLU(), nn.AvgPool2d(2),
            nn.Upsample(scale_factor=2), nn.InstanceNorm2d(8, affine=True),
            nn.ELU(), nn.PReLU(), nn.AdaptiveMaxPool2d(2), nn.Flatten(),
            nn.Linear(32, 10)), (3, 32, 32)),
        'deconv': (nn.ConvTranspose2d(3, 4, 3, stride=2), (3, 9, 9)),
        'conv1d': (nn.Sequential(
            nn.Conv1d(4, 8, 3), nn.BatchNorm1d(8), nn.ReLU(),
            nn.AdaptiveAvgPool1d(1)), (4, 20)),
        'layer_norm': (nn.Sequential(
            nn.Linear(16, 32), nn.LayerNorm(32), nn.ReLU()), (5, 16)),
    }


@pytest.mark.parametrize('name', sorted(_zoo()))
@pytest.mark.parametrize('use_meta', [True, False])
def test_same_counts_as_mmcv(name, use_meta):
    model, shape = _zoo()[name]
    res = ResourceEstimator(input_shape=(1, *shape), units=RAW).estimate(
        model, dict(use_meta=use_meta))
    flops, params = _mmcv_counts(model, shape)
    assert (res['flops'], res['params']) == (flops, params)


def test_units_strings_batch_and_registry():
    conv = nn.Conv2d(3, 32, 3)  # 62x62 outputs: 3,444,224 FLOPs, 896 params
    est = TASK_UTILS.build(
        dict(type='ResourceEstimator', input_shape=(1, 3, 64, 64)))
    assert isinstance(est, ResourceEstimator)
    assert est.estimate(conv) == dict(flops=3.444224, params=0.000896)
    batch4 = ResourceEstimator(input_shape=(4, 3, 64, 64), units=RAW)
    assert batch4.estimate(conv) == dict(flops=3_444_224, params=896)
    kilo = ResourceEstimator((1, 3, 64, 64), dict(flops='K', params='K'))
    assert kilo.estimate(conv) == dict(flops=3444.224, params=0.896)
    strings = ResourceEstimator((1, 3, 64, 64), as_strings=True)
    assert strings.estimate(conv) == dict(
        flops='3.444 MFLOPs', params='0.001 M')
    assert ResourceEstimator((1, 3, 64, 64), RAW, True).estimate(conv) == \
        dict(flops='3444224.0 FLOPs', params='896.0')
    # A call can override the input shape.
    small = est.estimate(conv, dict(input_shape=(1, 3, 34, 34)))
    assert small['flops'] == 28 * 32 * 32 * 32 / 1e6


@pytest.mark.parametrize('kwargs, words', [
    (dict(units=dict(flops='T')), ["units['flops']", "'T'", "'G'"]),
    (dict(units=dict(latency='us')), ["units['latency']", "'us'", "'ms'"]),
    (dict(units=dict(memory='M')), ["'memory'", "'flops'"]),
    (dict(units='M'), ['units', "'M'"]),
    (dict(input_shape=(0, 3, 8, 8)), ['input_shape', '(0, 3, 8, 8)']),
    (dict(input_shape=(3, )), ['input_shape', '(3,)']),
    (dict(input_shape='1x3x8x8'), ['input_shape', "'1x3x8x8'"]),
    (dict(flops_params_cfg=dict(shape=(1, 3))), ["'shape'", "'input_shape'"]),
    (dict(flops_params_cfg=dict(disabled_counters=['bn'])),
     ["'bn'", "'norm'"]),
    (dict(latency_cfg=dict(iters=3)), ["'iters'", "'max_iter'"]),
])
def test_config_errors_name_field_value_and_allowed(kwargs, words):
    with pytest.raises(ValueError) as err:
        ResourceEstimator(**kwargs)
    for word in words:
        assert word in str(err.value)


def test_latency_and_value_errors():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    est = ResourceEstimator(input_shape=(1, 3, 16, 16))
    assert 'latency' not in est.estimate(model)
    res = est.estimate(
        model, latency_cfg=dict(max_iter=3, num_warmup=1, log_interval=2))
    assert isinstance(res['latency'], float) and res['latency'] > 0
    timed = ResourceEstimator((1, 3, 16, 16), as_strings=True,
                              latency_cfg=dict(max_iter=2, num_warmup=0))
    assert timed.estimate(model)['latency'].endswith(' ms')
    assert 'latency' not in timed.estimate(model, measure_latency=False)
    with pytest.raises(ValueError, match=r'`max_iter` must be an int >= 1'):
        est.estimate(model, latency_cfg=dict(max_iter=0))
    with pytest.raises(TypeError, match='custom_counters'):
        est.estimate(model, dict(custom_counters={'ReLU': len}))


def test_model_left_unchanged():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    ResourceEstimator(input_shape=(2, 3, 8, 8)).estimate(
        model, dict(use_meta=False), latency_cfg=dict(max_iter=1))
    ResourceEstimator(input_shape=(2, 3, 8, 8)).estimate(model)
    assert all(m.training for m in model.modules())
    assert all(not m._forward_hooks for m in model.modules())
    for key, value in model.state_dict().items():
        assert value.device.type == 'cpu'
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)


class _DataDependent(nn.Module):
    """Fails on the meta device: its forward reads a value."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=False)

    def forward(self, x):
        if x.sum().item() > -1:
            x = self.conv(x)
        return x


def test_meta_failure_falls_back_to_a_real_forward():
    est = ResourceEstimator(input_shape=(1, 3, 10, 10), units=RAW)
    with mock.patch.object(flops_params_counter, 'print_log') as log:
        result = est.count(_DataDependent())
    assert not result.on_meta
    assert result.flops == 27 * 4 * 64 and result.params == 108
    (message, ), _ = log.call_args
    assert 'meta device' in message and 'real forward on cpu' in message
    assert est.count(nn.Conv2d(3, 4, 3)).on_meta


class _AddConstant(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.tensor(0.1))

    def forward(self, x):
        return x + self.p


def test_custom_and_disabled_counters():
    model = nn.Sequential(_AddConstant(), nn.Conv2d(3, 4, 3, bias=False),
                          nn.BatchNorm2d(4))
    est = ResourceEstimator(input_shape=(1, 3, 10, 10), units=RAW)
    conv, bn = 27 * 4 * 64, 2 * 4 * 64
    assert est.estimate(model)['flops'] == conv + bn
    assert est.estimate(model)['params'] == 1 + 108 + 8
    assert est.estimate(model, dict(disabled_counters=['norm'])) == dict(
        flops=conv, params=117)
    custom = dict(custom_counters={_AddConstant: lambda m, i, o: 1000})
    assert est.estimate(model, custom)['flops'] == conv + bn + 1000


def test_mmengine_models_run_in_tensor_mode(tiny_supernet_cfg):
    algo = MODELS.build(dict(type='SPOS', architecture=tiny_supernet_cfg))
    algo.set_subnet(algo.sample_subnet())
    est = ResourceEstimator(input_shape=(1, 3, 32, 32), units=RAW)
    res = est.estimate(algo)
    assert res == est.estimate(algo.architecture)
    assert res == est.estimate(export_static_model(algo.architecture))
    backbone = est.estimate(
        algo.architecture,
        dict(forward_fn=lambda model, x: model.backbone(x)))
    assert 0 < backbone['flops'] < res['flops']


def test_original_counters_agree_on_spos(spos_static):
    """The original's per-module counters (``estimators.counters``) give the
    same figures as ResourceEstimator."""
    from mmrazor.models.task_modules.estimators.counters import (
        get_model_flops_params,
    )
    assert get_model_flops_params(_Tensor(spos_static)) == (SPOS_FLOPS,
                                                            SPOS_PARAMS)
    flops, _ = get_model_flops_params(
        _Tensor(spos_static), disabled_counters=['ReLUCounter'])
    assert flops == SPOS_FLOPS - SPOS_RELU
    mega = get_model_flops_params(
        _Tensor(spos_static), units=dict(flops='M', params='M'),
        as_strings=True)
    assert mega == ('327.544 M', '3.354 M')


def test_original_counters_custom_and_dynamic():
    from mmrazor.models.architectures.dynamic_ops import DynamicConv2d
    from mmrazor.models.mutables import SquentialMutableChannel
    from mmrazor.models.task_modules.estimators.counters import (
        BaseCounter,
        get_model_flops_params,
    )

    class Doubler(nn.Module):

        def forward(self, x):
            return x * 2

    class DoublerCounter(BaseCounter):

        @staticmethod
        def add_count_hook(module, input, output):
            module.__flops__ += output.numel()

    TASK_UTILS.register_module(module=DoublerCounter, force=True)
    try:
        conv = DynamicConv2d(4, 8, 3, padding=1, bias=False)
        channel = SquentialMutableChannel(8)
        conv.register_mutable_attr('out_channels', channel)
        channel.current_choice = 2
        model = nn.Sequential(conv, Doubler())
        flops, params = get_model_flops_params(model, (2, 4, 5, 5))
        # conv: 2 x 5 x 5 outputs x 4 x 3 x 3 MACs; doubler: 50 outputs
        assert flops == 2 * 25 * 36 + 50
        assert params == 2 * 4 * 9
    finally:
        TASK_UTILS.module_dict.pop('DoublerCounter')
