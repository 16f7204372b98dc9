# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch

from mmrazor.models.task_modules import (
    ModuleOutputsRecorder,
    ParameterRecorder,
    RecorderManager,
)
from mmrazor.models.task_modules.recorder._utils import ComponentGroup

from .toy_module import Toy, ToyModel

TOY = 'tests.test_models.test_task_modules.test_recorder.toy_module'


def test_build_initialize_record():
    model = ToyModel()
    manager = RecorderManager(dict(
        conv=dict(type='ModuleOutputsRecorder', source='conv'),
        fc_in=dict(type='ModuleInputsRecorder', source='block.1'),
        weight=dict(type='ParameterRecorder', source='conv.weight'),
        add=dict(type='mmrazor.MethodOutputsRecorder',
                 source=f'{TOY}.Toy.add')))
    assert isinstance(manager.get_recorder('conv'), ModuleOutputsRecorder)
    assert isinstance(manager.get_recorder('weight'), ParameterRecorder)
    manager.initialize(model)
    try:
        x = torch.randn(2, 1, 2, 2)
        with manager:
            out = model(x)
        torch.testing.assert_close(manager.get_record_data('conv'),
                                   model.conv(x))
        assert manager.get_record_data('fc_in', data_idx=0).shape == (2, 8)
        assert manager.get_record_data('weight') is model.conv.weight
        torch.testing.assert_close(manager.get_record_data('add'), out)
        assert not any(r.recording for r in manager.recorders.values())
        manager.reset_data()
        assert manager.get_recorder('conv').data_buffer == []
    finally:
        manager.remove()
    assert 'add' in Toy.__dict__ and not hasattr(Toy.add, '__wrapped__')


def test_nested_recorder_in_two_managers():
    model = ToyModel()
    shared = ModuleOutputsRecorder('conv')
    a, b = RecorderManager(dict(r=shared)), RecorderManager(dict(r=shared))
    a.initialize(model)
    with a:
        with b:
            model(torch.randn(1, 1, 2, 2))
        assert shared.recording
        model(torch.randn(1, 1, 2, 2))
    assert not shared.recording and len(shared.data_buffer) == 2
    a.remove()


def test_unknown_type_lists_registered():
    # the original MMRazor's short names build the same recorders
    short = RecorderManager(dict(feat=dict(type='ModuleOutputs', source='x')))
    assert type(short.get_recorder('feat')).__name__ == \
        'ModuleOutputsRecorder'
    with pytest.raises(ValueError) as info:
        RecorderManager(dict(feat=dict(type='ModuleOutput', source='x')))
    msg = str(info.value)
    assert "recorders['feat']" in msg and 'ModuleOutput' in msg
    assert "'ParameterRecorder'" in msg
    assert "without 'Recorder'" in msg
    with pytest.raises(ValueError, match='FunctionOutputsDelivery'):
        # a registered TASK_UTILS name that is not a recorder
        RecorderManager(dict(d=dict(type='FunctionOutputsDelivery',
                                    max_keep_data=1, func_path='torch.rand')))
    with pytest.raises(TypeError, match='"type"'):
        RecorderManager(dict(feat=dict(source='x')))


def test_missing_name_and_bad_source():
    manager = RecorderManager(dict(
        ok=dict(type='ModuleOutputsRecorder', source='conv'),
        bad=dict(type='ModuleOutputsRecorder', source='blok.1')))
    with pytest.raises(KeyError, match=r"available: \['bad', 'ok'\]"):
        manager.get_recorder('nope')
    with pytest.raises(KeyError, match='nope'):
        manager.get_record_data('nope')
    model = ToyModel()
    with pytest.raises(ValueError, match=r"recorder 'bad'.*'blok.1'"):
        manager.initialize(model)
    assert not model.conv._forward_hooks  # rolled back


class _Log:
    """A context that logs entering and leaving, or fails to enter."""

    def __init__(self, name, log, fail=False):
        self.name, self.log, self.fail = name, log, fail

    def __enter__(self):
        if self.fail:
            raise RuntimeError(f'{self.name} cannot enter')
        self.log.append(f'+{self.name}')
        return self

    def __exit__(self, *exc):
        self.log.append(f'-{self.name}')


class _Group(ComponentGroup):

    def __init__(self, members):
        super().__init__({m.name: m for m in members}, _Log, 'logs', 'log')


def test_component_group_order_rollback_and_nesting():
    log = []
    group = _Group([_Log('a', log), _Log('b', log)])
    with group:
        with group:
            log.append('body')
    assert log == ['+a', '+b', '+a', '+b', 'body', '-b', '-a', '-b', '-a']
    log.clear()
    failing = _Group([_Log('a', log), _Log('b', log, fail=True),
                      _Log('c', log)])
    with pytest.raises(RuntimeError, match='b cannot enter'):
        with failing:
            log.append('body')
    assert log == ['+a', '-a']
