# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch

from mmrazor.models.task_modules import (
    DistillDeliveryManager,
    FunctionOutputsDelivery,
    MethodOutputsDelivery,
)
from mmrazor.registry import TASK_UTILS

from . import toy_module
from .toy_module import Sampler

TOY = 'tests.test_models.test_task_modules.test_delivery.toy_module'


def test_registered():
    assert TASK_UTILS.get('FunctionOutputsDelivery') is FunctionOutputsDelivery
    assert TASK_UTILS.get('MethodOutputsDelivery') is MethodOutputsDelivery


def test_function_replay_and_restore():
    original = toy_module.__dict__['augment']
    delivery = FunctionOutputsDelivery(max_keep_data=2,
                                       func_path=f'{TOY}.augment')
    x = torch.zeros(3)
    with delivery:  # teacher: override_data=False records
        t1, t2 = toy_module.augment(x), toy_module.augment(x)
    assert toy_module.__dict__['augment'] is original
    delivery.override_data = True
    with delivery:  # student: replays in order
        s1, s2 = toy_module.augment(x), toy_module.augment(x)
    assert torch.equal(t1, s1) and torch.equal(t2, s2)
    assert not torch.equal(t1, t2)
    assert toy_module.__dict__['augment'] is original
    assert len(delivery.data_queue) == 0


def test_torch_rand_replay():
    delivery = FunctionOutputsDelivery(1, 'torch.rand')
    original = torch.rand
    with delivery:
        t = torch.rand(4)
    delivery.override_data = True
    with delivery:
        s = torch.rand(4)
    assert torch.equal(t, s) and torch.rand is original


def test_method_replay():
    delivery = MethodOutputsDelivery(max_keep_data=1,
                                     method_path=f'{TOY}.Sampler.sample')
    with delivery:
        t = Sampler().sample(3)
    delivery.override_data = True
    with delivery:
        s = Sampler().sample(3)
    assert torch.equal(t, s)
    assert not torch.equal(Sampler().sample(3), t)


def test_queue_errors_name_delivery():
    delivery = FunctionOutputsDelivery(1, f'{TOY}.augment')
    delivery.override_data = True
    with pytest.raises(RuntimeError, match=r'augment.*nothing to replay'):
        with delivery:
            toy_module.augment(torch.zeros(1))
    delivery.override_data = False
    with pytest.raises(RuntimeError, match=r'augment.*max_keep_data=1'):
        with delivery:
            toy_module.augment(torch.zeros(1))
            toy_module.augment(torch.zeros(1))
    assert toy_module.augment(torch.zeros(1)).shape == (1, )  # restored
    delivery.reset_data()
    assert len(delivery.data_queue) == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match='max_keep_data'):
        FunctionOutputsDelivery(0, 'torch.rand')
    with pytest.raises(TypeError, match='MethodOutputsDelivery'):
        FunctionOutputsDelivery(1, f'{TOY}.Sampler.sample')
    with pytest.raises(TypeError, match='FunctionOutputsDelivery'):
        MethodOutputsDelivery(1, f'{TOY}.augment')
    with pytest.raises(AttributeError, match="func_path=.*'augment'"):
        FunctionOutputsDelivery(1, f'{TOY}.augmnt')
    delivery = FunctionOutputsDelivery(1, 'torch.rand')
    with delivery:
        with pytest.raises(RuntimeError, match='already active'):
            delivery.__enter__()


def test_manager():
    manager = DistillDeliveryManager(dict(
        aug=dict(type='FunctionOutputsDelivery', max_keep_data=1,
                 func_path=f'{TOY}.augment'),
        smp=dict(type='MethodOutputsDelivery', max_keep_data=1,
                 method_path=f'{TOY}.Sampler.sample')))
    assert not manager.override_data
    x = torch.zeros(2)
    with manager:
        t = toy_module.augment(x), Sampler().sample(2)
    manager.override_data = True
    assert all(d.override_data for d in manager.deliveries.values())
    with manager:
        s = toy_module.augment(x), Sampler().sample(2)
    assert all(torch.equal(a, b) for a, b in zip(t, s))
    with pytest.raises(KeyError, match=r"available: \['aug', 'smp'\]"):
        manager.get_delivery('nope')
    assert manager.get_delivery('aug').func_path.endswith('augment')


def test_manager_unknown_type():
    short = DistillDeliveryManager(dict(
        aug=dict(type='FunctionOutputs', max_keep_data=1,
                 func_path='torch.rand')))
    assert type(short.get_delivery('aug')).__name__ == \
        'FunctionOutputsDelivery'
    with pytest.raises(ValueError) as info:
        DistillDeliveryManager(dict(
            aug=dict(type='FunctionOutput', max_keep_data=1,
                     func_path='torch.rand')))
    msg = str(info.value)
    assert "deliveries['aug']" in msg
    assert "without 'Delivery'" in msg
    assert "'MethodOutputsDelivery'" in msg
