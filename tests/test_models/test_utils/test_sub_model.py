# Copyright (c) OpenMMLab. All rights reserved.
"""Static export of SPOS subnets: structure, parameters and parity."""
import copy
import random

import pytest
import torch

from mmrazor.models import (
    NasMutator,
    OneShotMutableOP,
    count_mutables,
    export_static_model,
)
from mmrazor.registry import MODELS
from mmrazor.structures import load_subnet_dict

from ...conftest import SPOS_SUBNET, classifier_cfg, spos_stage_mutable


@pytest.fixture(scope='module')
def imagenet_supernet():
    """The SPOS ShuffleNetV2 supernet with a 1000-class head, randomised."""
    stage = spos_stage_mutable()
    arch = [[64, 4, stage], [160, 4, stage], [320, 8, stage],
            [640, 4, stage]]
    cfg = classifier_cfg(copy.deepcopy(arch), num_classes=1000)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    # Non-trivial BN statistics, so that parity checks the right buffers.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
    return cfg, model.eval()


def choices_of(subnet):
    return {k: v['chosen'] for k, v in subnet.items()}


def set_path(model, choices):
    for name, module in model.named_modules():
        if isinstance(module, OneShotMutableOP):
            module.current_choice = choices[name]


def test_published_subnet_params_and_parity(imagenet_supernet):
    cfg, supernet = imagenet_supernet
    sub = MODELS.build(
        dict(type='mmrazor.sub_model', cfg=cfg, fix_subnet=SPOS_SUBNET))
    assert count_mutables(sub) == 0
    params = sum(p.numel() for p in sub.parameters())
    # Published: 3.35 M parameters.
    assert abs(params / 1e6 - 3.35) / 3.35 < 0.005, params
    # Keys are the supernet's keys: its weights load strictly.
    state = supernet.state_dict()
    assert set(sub.state_dict()) <= set(state)
    sub.load_state_dict({k: state[k] for k in sub.state_dict()})
    sub.eval()
    set_path(supernet, choices_of(load_subnet_dict(SPOS_SUBNET)))
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        diff = (sub(x, mode='tensor') - supernet(x, mode='tensor')).abs()
    assert diff.max().item() <= 1e-5


def test_random_subnets_parity(imagenet_supernet):
    _, supernet = imagenet_supernet
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    x = torch.randn(1, 3, 96, 96)
    for seed in range(5):
        random.seed(seed)
        mutator.set_choices(mutator.sample_choices())
        static = export_static_model(supernet)
        assert count_mutables(static) == 0
        assert count_mutables(supernet) == 20  # the supernet is untouched
        with torch.no_grad():
            diff = (static(x, mode='tensor') -
                    supernet(x, mode='tensor')).abs().max().item()
        assert diff <= 1e-5
        kept = sum(p.numel() for p in static.parameters())
        assert kept < sum(p.numel() for p in supernet.parameters())


def test_pretrained_init_from_supernet_checkpoint(tiny_supernet_cfg,
                                                  tmp_path):
    """A SPOS checkpoint (keys 'architecture.*') initialises the subnet."""
    algo = MODELS.build(dict(type='SPOS', architecture=tiny_supernet_cfg))
    algo.init_weights()
    ckpt = tmp_path / 'supernet.pth'
    torch.save({'state_dict': algo.state_dict()}, ckpt)
    subnet = {f'backbone.layers.{i}.{j}': {'chosen': 'shuffle_5x5'}
              for i in range(2) for j in range(2)}
    sub = MODELS.build(
        dict(
            type='sub_model',
            cfg=tiny_supernet_cfg,
            fix_subnet=subnet,
            init_cfg=dict(
                type='Pretrained',
                checkpoint=str(ckpt),
                prefix='architecture.')))
    sub.init_weights()
    state = algo.state_dict()
    for key, value in sub.state_dict().items():
        torch.testing.assert_close(value, state[f'architecture.{key}'])
    algo.mutator.set_choices({k: v['chosen'] for k, v in subnet.items()})
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(
            sub.eval()(x), algo.eval()(x), atol=1e-5, rtol=0)


def test_static_model_exports_to_onnx(tiny_supernet_cfg, tmp_path):
    onnx = pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    algo = MODELS.build(dict(type='SPOS', architecture=tiny_supernet_cfg))
    algo.mutator.set_choices(algo.mutator.sample_choices())
    static = export_static_model(algo.architecture).eval()
    x = torch.randn(1, 3, 32, 32)
    path = str(tmp_path / 'subnet.onnx')

    class Tensor(torch.nn.Module):

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x, mode='tensor')

    torch.onnx.export(Tensor(static).eval(), (x, ), path, dynamo=False)
    onnx.checker.check_model(onnx.load(path))
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    (out, ) = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        ref = static(x, mode='tensor').numpy()
    assert abs(out - ref).max() <= 1e-4
