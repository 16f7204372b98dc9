# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmrazor.models.task_modules import (
    FunctionInputsRecorder,
    FunctionOutputsRecorder,
    MethodInputsRecorder,
    MethodOutputsRecorder,
    ModuleInputsRecorder,
    ModuleOutputsRecorder,
    ParameterRecorder,
    RecorderManager,
)
from mmrazor.registry import TASK_UTILS
from mmrazor.utils.model_wrappers import unwrap_model

from . import toy_module
from .toy_module import Child, Toy, ToyModel

TOY = 'tests.test_models.test_task_modules.test_recorder.toy_module'


@pytest.fixture
def model():
    torch.manual_seed(0)
    return ToyModel()


def _input():
    return torch.randn(2, 1, 2, 2)


def test_registered_names():
    for name in ('ModuleOutputsRecorder', 'ModuleInputsRecorder',
                 'MethodOutputsRecorder', 'MethodInputsRecorder',
                 'FunctionOutputsRecorder', 'FunctionInputsRecorder',
                 'ParameterRecorder'):
        assert TASK_UTILS.get(name).__name__ == name


def test_module_outputs_nested(model):
    rec = ModuleOutputsRecorder('block.1')
    rec.initialize(model)
    x = _input()
    with rec:
        model(x)
        model(x)
    expected = model.block[1](model.block[0](model.conv(x)))
    assert len(rec.data_buffer) == 2
    torch.testing.assert_close(rec.get_record_data(1), expected)
    # records stay after the block, and entering again clears them
    with rec:
        model(x)
    assert len(rec.data_buffer) == 1


def test_module_inputs(model):
    rec = ModuleInputsRecorder('block.3')
    rec.initialize(model)
    x = _input()
    with rec:
        model(x)
    record = rec.get_record_data()
    assert isinstance(record, tuple) and len(record) == 1
    expected = torch.relu(model.block[1](model.block[0](model.conv(x))))
    torch.testing.assert_close(rec.get_record_data(0, data_idx=0), expected)
    with pytest.raises(IndexError, match='data_idx=1'):
        rec.get_record_data(0, data_idx=1)


def test_off_costs_nothing(model):
    recs = [ModuleOutputsRecorder('conv'), ModuleInputsRecorder('conv'),
            MethodOutputsRecorder(f'{TOY}.Toy.add'),
            FunctionInputsRecorder(f'{TOY}.scale'),
            ParameterRecorder('conv.weight')]
    for rec in recs:
        rec.initialize(model)
    try:
        model(_input())
        for rec in recs:
            assert rec.data_buffer == [] and not rec.recording
        with pytest.raises(IndexError, match='Nothing was recorded'):
            recs[0].get_record_data()
    finally:
        for rec in recs:
            rec.remove()


def test_no_grad_teacher(model):
    rec = ModuleOutputsRecorder('block')
    rec.initialize(model)
    with torch.no_grad(), rec:
        out = model(_input())
    assert not out.requires_grad
    assert not rec.get_record_data().requires_grad
    with rec:
        model(_input())
    assert rec.get_record_data().requires_grad


def test_uninitialized_and_remove(model):
    rec = ModuleOutputsRecorder('conv')
    with pytest.raises(RuntimeError, match='not initialized'):
        with rec:
            pass
    rec.initialize(model)
    rec.initialize(model)  # idempotent: one hook only
    with rec:
        model(_input())
    assert len(rec.data_buffer) == 1
    rec.remove()
    assert not model.conv._forward_hooks


def test_bad_module_source(model):
    rec = ModuleOutputsRecorder('block.l')
    with pytest.raises(ValueError, match=r"'block.1'"):
        rec.initialize(model)
    with pytest.raises(TypeError, match='nn.Module'):
        ModuleOutputsRecorder('conv').initialize(None)
    with pytest.raises(ValueError, match='conv.weight'):
        ParameterRecorder('conv.weigth').initialize(model)


def test_ddp_prefix(model):
    wrapped = nn.DataParallel(model)
    assert unwrap_model(wrapped) is model
    rec = ModuleOutputsRecorder('conv')
    rec.initialize(wrapped)
    with rec:
        model(_input())
    assert len(rec.data_buffer) == 1
    rec.remove()
    with pytest.raises(ValueError, match="use 'conv'"):
        ModuleOutputsRecorder('module.conv').initialize(wrapped)


def test_parameter(model):
    rec = ParameterRecorder('block.1.weight')
    rec.initialize(model)
    with rec:
        pass
    assert rec.get_record_data() is model.block[1].weight


def test_method_outputs_and_restore(model):
    original = Toy.__dict__['add']
    rec = MethodOutputsRecorder(f'{TOY}.Toy.add')
    rec.initialize()
    assert Toy.__dict__['add'] is not original
    x = _input()
    with rec:
        out = model(x)
    torch.testing.assert_close(rec.get_record_data(), out)
    rec.remove()
    assert Toy.__dict__['add'] is original


def test_method_inputs_keywords_and_static():
    rec = MethodInputsRecorder(f'{TOY}.Toy.add')
    rec.initialize()
    try:
        with rec:
            Toy().add(1, 2)
            Toy().add(y=4, x=3)
        assert rec.data_buffer == [(1, 2), (3, 4)]
        assert rec.get_record_data(1, data_idx=0) == 3
    finally:
        rec.remove()
    static = MethodInputsRecorder(f'{TOY}.Toy.double')
    static.initialize()
    try:
        with static:
            assert Toy.double(5) == 10
        assert static.data_buffer == [(5,)]
    finally:
        static.remove()
    assert isinstance(Toy.__dict__['double'], staticmethod)


def test_inherited_method_restored():
    rec = MethodOutputsRecorder(f'{TOY}.Child.hello')
    rec.initialize()
    assert 'hello' in Child.__dict__
    with rec:
        Child().hello()
    assert rec.data_buffer == ['hello']
    rec.remove()
    assert 'hello' not in Child.__dict__


def test_function_recorders(model):
    outs = FunctionOutputsRecorder(f'{TOY}.scale')
    ins = FunctionInputsRecorder(f'{TOY}.scale')
    manager = RecorderManager(dict(outs=outs, ins=ins))
    original = toy_module.__dict__['scale']
    manager.initialize(model)
    try:
        with manager:
            out = model(_input())
        assert out.shape == (2, 3)
        x = manager.get_record_data('ins', data_idx=0)
        torch.testing.assert_close(manager.get_record_data('outs'), x * 2)
    finally:
        manager.remove()
    assert toy_module.__dict__['scale'] is original


def test_torch_functional_relu(model):
    original = F.relu
    rec = FunctionOutputsRecorder('torch.nn.functional.relu')
    rec.initialize()
    try:
        with rec:
            model(_input())  # nn.ReLU calls F.relu
        assert len(rec.data_buffer) == 1
        assert rec.get_record_data().shape == (2, 4)
    finally:
        rec.remove()
    assert F.relu is original


def test_out_of_order_removal_passes_through():
    first = MethodOutputsRecorder(f'{TOY}.Toy.add')
    second = MethodOutputsRecorder(f'{TOY}.Toy.add')
    original = Toy.__dict__['add']
    first.initialize()
    second.initialize()
    first.remove()  # second's wrapper is on top: first's stays, inert
    first.initialize()
    with first, second:
        Toy().add(1)
    assert first.data_buffer == [2] and second.data_buffer == [2]
    second.remove()  # first's new wrapper is on top: second's stays, inert
    assert Toy().add(1) == 2 and second.data_buffer == [2]
    first.remove()  # unwinds both, and the inert one from before
    assert Toy.__dict__['add'] is original


def test_bad_callable_sources():
    with pytest.raises(AttributeError, match=r"close matches: \['add'\]"):
        MethodOutputsRecorder(f'{TOY}.Toy.ad')
    with pytest.raises(TypeError, match='FunctionOutputsRecorder'):
        MethodOutputsRecorder(f'{TOY}.scale')
    with pytest.raises(TypeError, match='MethodInputsRecorder'):
        FunctionInputsRecorder(f'{TOY}.Toy.add')
    with pytest.raises(ValueError, match='import path'):
        FunctionOutputsRecorder('relu')
    with pytest.raises(ImportError, match='no_such_pkg'):
        FunctionOutputsRecorder('no_such_pkg.mod.f')


def test_mmcls_head_loss():
    from mmcls.models import ClsHead
    original = ClsHead.__dict__['loss']
    rec = MethodInputsRecorder('mmcls.models.ClsHead.loss')
    rec.initialize()
    assert ClsHead.__dict__['loss'] is not original
    rec.remove()
    assert ClsHead.__dict__['loss'] is original


def test_module_outputs_clone_survives_inplace_ops():
    """mmcls blocks add the identity in place after their last BN: a
    reference record would see the sum, a cloned one the BN output."""
    import torch
    from torch import nn

    from mmrazor.registry import TASK_UTILS

    class Block(nn.Module):

        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm1d(3)

        def forward(self, x):
            out = self.bn(x)
            out += x
            return out

    model = Block().eval()
    x = torch.randn(4, 3)
    expected = model.bn(x).detach().clone()
    ref = TASK_UTILS.build(dict(type='ModuleOutputsRecorder', source='bn'))
    cloned = TASK_UTILS.build(
        dict(type='ModuleOutputsRecorder', source='bn', clone=True))
    for rec in (ref, cloned):
        rec.initialize(model)
    with ref, cloned:
        model(x)
    torch.testing.assert_close(cloned.get_record_data(), expected)
    assert not torch.allclose(ref.get_record_data(), expected)
