# Copyright (c) OpenMMLab. All rights reserved.
import copy
import os.path as osp
import random

import pytest
import torch
from mmcls.structures import ClsDataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from mmrazor.models.architectures.dynamic_ops import (
    DynamicConv2d,
    SwitchableBatchNorm2d,
)
from mmrazor.models.task_modules import ResourceEstimator
from mmrazor.models.utils import export_static_model
from mmrazor.registry import MODELS

from ...conftest import CONFIG_DIR

DEMO = osp.join(CONFIG_DIR, 'pruning', 'mmcls', 'autoslim', 'demo',
                'autoslim_mbv2_supernet_digits.py')


def _algorithm_cfg() -> dict:
    return copy.deepcopy(Config.fromfile(DEMO).model.to_dict())


@pytest.fixture(scope='module')
def autoslim():
    torch.manual_seed(0)
    return MODELS.build(_algorithm_cfg())


def _batch(n: int = 4):
    inputs = torch.randn(n, 3, 32, 32)
    samples = [ClsDataSample().set_gt_label(i % 10) for i in range(n)]
    return inputs, samples


def test_units_found_and_layers_made_dynamic(autoslim):
    mutator = autoslim.mutator
    assert len(mutator.units) == 25
    assert mutator.choices['backbone.conv1.conv_(0, 16)_16'] == [
        0.25, 0.5, 0.75, 1.0
    ]
    assert isinstance(autoslim.architecture.backbone.conv1.conv,
                      DynamicConv2d)
    assert {e['reason'] for e in mutator.excluded} == {
        'model input', 'model output'
    }


def test_sandwich_losses_and_one_update(autoslim):
    inputs, samples = _batch()
    autoslim.train()
    losses = autoslim(inputs, samples, mode='loss')
    assert sorted(losses) == [
        'max_subnet.loss', 'min_subnet.loss_kl', 'random_subnet_0.loss_kl',
        'random_subnet_1.loss_kl'
    ]
    # the largest width is set again after the step
    assert set(autoslim.mutator.current_choices.values()) == {1.0}
    optim = OptimWrapper(torch.optim.SGD(autoslim.parameters(), lr=0.1))
    before = autoslim.architecture.head.fc.weight.detach().clone()
    data = dict(inputs=list(inputs.mul(50).add(100).to(torch.uint8)),
                data_samples=samples)
    log = autoslim.train_step(data, optim)
    assert 'max_subnet.loss' in log
    assert not torch.equal(before, autoslim.architecture.head.fc.weight)


@pytest.mark.parametrize('kind', ['max', 'min'] + [f'random{i}'
                                                   for i in range(10)])
def test_export_parity_and_resources(autoslim, kind):
    autoslim.eval()
    torch.manual_seed(len(kind) * 7 + ord(kind[-1]))
    mutator = autoslim.mutator
    mutator.set_choices(mutator.sample_choices(kind.rstrip('0123456789')))
    arch = autoslim.architecture
    static = export_static_model(arch)
    assert not any(hasattr(m, 'mutable_attrs') for m in static.modules())
    inputs, _ = _batch(2)
    with torch.no_grad():
        diff = (static(inputs, mode='tensor') -
                arch(inputs, mode='tensor')).abs().max()
    assert diff <= 1e-5
    estimator = ResourceEstimator(input_shape=(1, 3, 32, 32))
    assert estimator.estimate(static) == estimator.estimate(arch)
    if kind == 'min':
        full = sum(p.numel() for p in arch.parameters())
        assert sum(p.numel() for p in static.parameters()) < full / 5


def test_onnx_parity_of_a_random_subnet(autoslim, tmp_path):
    onnxruntime = pytest.importorskip('onnxruntime')
    autoslim.eval()
    torch.manual_seed(2)
    random.seed(2)  # the mutator draws from Python's random
    autoslim.mutator.set_choices(autoslim.mutator.sample_choices())
    static = export_static_model(autoslim.architecture)
    inputs, _ = _batch(2)

    class Logits(torch.nn.Module):

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x, mode='tensor')

    path = str(tmp_path / 'subnet.onnx')
    torch.onnx.export(Logits(static).eval(), inputs, path,
                      input_names=['x'],
                      dynamo=False)
    session = onnxruntime.InferenceSession(path)
    (out, ) = session.run(None, {'x': inputs.numpy()})
    with torch.no_grad():
        expected = static(inputs, mode='tensor').numpy()
    assert abs(out - expected).max() <= 1e-4


def test_slimmable_network_trains_given_widths(tmp_path):
    torch.manual_seed(0)
    autoslim = MODELS.build(_algorithm_cfg())
    mutator = autoslim.mutator
    paths = []
    for kind in ('max', 'min'):
        mutator.set_choices(mutator.sample_choices(kind))
        paths.append(mutator.config_template())
    cfg = _algorithm_cfg()
    slimmable = MODELS.build(
        dict(type='mmrazor.SlimmableNetwork',
             architecture=cfg['architecture'],
             channel_cfg_paths=paths,
             mutator=dict(
                 type='SlimmableChannelMutator',
                 channel_unit_cfg=dict(type='SlimmableChannelUnit'),
                 parse_cfg=cfg['mutator']['parse_cfg'])))
    bn = slimmable.architecture.backbone.conv1.bn
    assert isinstance(bn, SwitchableBatchNorm2d)
    assert sorted(bn.candidate_bn.keys(), key=int) == ['4', '16']
    inputs, samples = _batch()
    losses = slimmable(inputs, samples, mode='loss')
    assert sorted(losses) == ['subnet_0.loss', 'subnet_1.loss']
    slimmable.eval()
    for subnet in slimmable.subnets:
        slimmable.mutator.set_choices(subnet)
        static = export_static_model(slimmable.architecture)
        with torch.no_grad():
            diff = (static(inputs, mode='tensor') -
                    slimmable.architecture(inputs, mode='tensor')).abs()
        assert diff.max() <= 1e-5
    assert static.backbone.conv1.conv.out_channels == 4


def test_errors():
    cfg = _algorithm_cfg()
    with pytest.raises(ValueError, match='`num_samples` must be an int'):
        MODELS.build(dict(cfg, num_samples=-1))
    with pytest.raises(ValueError, match='deploy_index 3 is out of range'):
        MODELS.build(
            dict(type='mmrazor.SlimmableNetwork',
                 architecture=cfg['architecture'],
                 channel_cfg_paths=[{
                     'backbone.conv1.conv_(0, 16)_16':
                     dict(init_args=dict(num_channels=16), choice=8)
                 }],
                 deploy_index=3))


def test_switchable_bn_gives_each_switch_private_statistics():
    bn = SwitchableBatchNorm2d(8, [4, 8], switch_num_features=[8, 4, 8])
    assert bn.switch_keys == ['8', '4', '8_1']
    assert sorted(bn.candidate_bn) == ['4', '8', '8_1']
    # the original's state dict (one norm per width) loads; '8_1' from '8'
    plain = SwitchableBatchNorm2d(8, [4, 8])
    for norm in plain.candidate_bn.values():
        norm.running_mean.uniform_()
    assert not bn.load_state_dict(plain.state_dict()).missing_keys
    assert torch.equal(bn.candidate_bn['8_1'].running_mean,
                       plain.candidate_bn['8'].running_mean)
    # the switch picks its norm where its width is active, else the width's
    assert bn.active_bn() is bn.candidate_bn['8']
    bn.switch = 2
    assert bn.active_bn() is bn.candidate_bn['8_1']
    bn.switch = 1  # width 4, but 8 channels are active
    assert bn.active_bn() is bn.candidate_bn['8']
    with pytest.raises(ValueError, match='switch_num_features holds 6'):
        SwitchableBatchNorm2d(8, [4, 8], switch_num_features=[6])


def test_slimmable_subnets_sharing_a_width_keep_their_statistics():
    """Two subnets give the stem the same width (and differ elsewhere):
    each has private statistics there, which SlimmableValLoop and exports
    use (with one norm per width, both would update the same one)."""
    torch.manual_seed(0)
    autoslim = MODELS.build(_algorithm_cfg())
    mutator = autoslim.mutator
    mutator.set_choices(mutator.sample_choices('max'))
    wide = mutator.config_template()
    mutator.set_choices(mutator.sample_choices('min'))
    narrow = mutator.config_template()
    stem = 'backbone.conv1.conv_(0, 16)_16'
    narrow[stem] = dict(wide[stem])  # the same stem width in both
    cfg = _algorithm_cfg()
    slimmable = MODELS.build(
        dict(type='mmrazor.SlimmableNetwork',
             architecture=cfg['architecture'], channel_cfg_paths=[wide,
                                                                  narrow]))
    bn = slimmable.architecture.backbone.conv1.bn
    assert bn.switch_keys == ['16', '16_1']
    inputs, samples = _batch()
    slimmable.train()
    slimmable(inputs, samples, mode='loss')
    # one training step: each subnet updated its own norm, once
    assert all(int(n.num_batches_tracked) == 1
               for n in bn.candidate_bn.values())
    from mmrazor.engine.runner.subnet_val_loop import SlimmableValLoop
    for i in range(2):
        SlimmableValLoop._activate(slimmable, i)
        assert bn.switch == i
        assert bn.active_bn() is bn.candidate_bn[bn.switch_keys[i]]
    # whoever sets a subnet's choices through the mutator gets its norms
    for i in (1, 0, 1):
        slimmable.mutator.set_choices(slimmable.subnets[i])
        assert bn.switch == i
    # the wide subnet with one unit narrowed is no subnet's choices
    choices = dict(slimmable.subnets[0])
    key = next(k for k in choices
               if k != stem and slimmable.subnets[1][k] != choices[k])
    choices[key] = slimmable.subnets[1][key]
    assert choices not in slimmable.subnets
    slimmable.mutator.set_choices(choices)
    assert bn.switch is None and bn.active_bn() is bn.candidate_bn['16']
    # exports keep the switch's norm
    slimmable.eval()
    slimmable.set_subnet(1)
    static = export_static_model(slimmable.architecture)
    with torch.no_grad():
        diff = (static(inputs, mode='tensor') -
                slimmable.architecture(inputs, mode='tensor')).abs()
    assert diff.max() <= 1e-5
    with pytest.raises(IndexError, match='no subnet 2'):
        slimmable.set_subnet(2)


def test_slimmable_network_rebuilds_from_its_own_units():
    """The mutator's config_template (with switch_choices) rebuilds the
    same subnets in the same order, repeats included."""
    torch.manual_seed(0)
    autoslim = MODELS.build(_algorithm_cfg())
    mutator = autoslim.mutator
    mutator.set_choices(mutator.sample_choices('min'))
    narrow = mutator.config_template()
    mutator.set_choices(mutator.sample_choices('max'))
    wide = mutator.config_template()
    cfg = _algorithm_cfg()
    first = MODELS.build(dict(type='mmrazor.SlimmableNetwork',
                              architecture=cfg['architecture'],
                              channel_cfg_paths=[narrow, wide, narrow]))
    units = first.mutator.config_template()
    again = MODELS.build(dict(
        type='mmrazor.SlimmableNetwork',
        architecture=_algorithm_cfg()['architecture'],
        mutator=dict(type='SlimmableChannelMutator',
                     channel_unit_cfg=dict(type='SlimmableChannelUnit',
                                           units=units))))
    assert again.subnets == first.subnets
    assert again.subnets[0] == again.subnets[2] != again.subnets[1]
