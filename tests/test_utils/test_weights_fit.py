# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint
from torch import nn

import mmrazor  # noqa: F401  (installs the fit check)
from mmrazor.utils.weights_fit import (
    check_weights_fit,
    set_min_loaded_ratio,
    suggest_prefix,
)


class Net(BaseModule):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        self.head = nn.Linear(4, 2)


class Algorithm(BaseModule):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.architecture = Net()


@pytest.fixture
def ckpt(tmp_path):
    def save(state_dict, name='ckpt.pth'):
        path = str(tmp_path / name)
        torch.save({'state_dict': state_dict}, path)
        return path
    return save


def test_no_matching_key_refused_with_prefix_hint(ckpt):
    path = ckpt(Algorithm().state_dict())  # keys start with architecture.
    with pytest.raises(RuntimeError,
                       match=r"0 of the 8 tensors.*prefix 'architecture\.'"):
        load_checkpoint(Net(), path)


def test_model_prefix_hint(ckpt):
    path = ckpt(Net().state_dict())
    with pytest.raises(RuntimeError, match="model's keys under "
                       r"'architecture\.'"):
        load_checkpoint(Algorithm(), path)


def test_empty_state_dict_refused(ckpt):
    with pytest.raises(RuntimeError, match='holds no weights at all'):
        load_checkpoint(Net(), ckpt({}))


def test_pretrained_init_cfg_refused_then_prefix_works(ckpt):
    path = ckpt(Algorithm().state_dict())
    net = Net(init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(RuntimeError, match='--allow-partial-load'):
        net.init_weights()
    source = Algorithm()
    path = ckpt(source.state_dict(), 'b.pth')
    net = Net(init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='architecture.'))
    net.init_weights()
    assert torch.equal(net.head.weight, source.architecture.head.weight)


def test_partial_load_above_ratio_and_opt_out(ckpt):
    state = Net().state_dict()
    head_only = {k: v for k, v in state.items() if k.startswith('head.')}
    load_checkpoint(Net(), ckpt(head_only))  # 2 of 8 >= 10%
    check_weights_fit(Net(), head_only, min_loaded_ratio=0.25)
    with pytest.raises(RuntimeError, match='2 of the 8'):
        check_weights_fit(Net(), head_only, min_loaded_ratio=0.5)
    set_min_loaded_ratio(0)
    try:
        load_checkpoint(Net(), ckpt({'x': torch.ones(1)}, 'c.pth'))
    finally:
        set_min_loaded_ratio(0.1)
    with pytest.raises(ValueError, match='1.5'):
        set_min_loaded_ratio(1.5)


def test_shape_mismatch_does_not_count():
    state = {k: torch.zeros(1) for k in Net().state_dict()}
    with pytest.raises(RuntimeError, match=r"0 of the 8.*8 keys match by "
                       r"name but not by shape.*\(1,\) in the checkpoint"):
        check_weights_fit(Net(), state)


def test_suggest_prefix():
    assert suggest_prefix(['a.b.w'], ['x.a.b.w']) == ('checkpoint', 'x.', 1)
    assert suggest_prefix(['x.a.w'], ['a.w']) == ('model', 'x.', 1)
    assert suggest_prefix(['a.w'], ['b.w']) is None
