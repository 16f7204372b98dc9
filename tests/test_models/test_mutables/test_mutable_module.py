# Copyright (c) OpenMMLab. All rights reserved.
import copy

import pytest
import torch
import torch.nn as nn

from mmrazor.models import OneShotMutableOP
from mmrazor.registry import MODELS


def build_op(stage_mutable, in_channels=16, out_channels=32, stride=2):
    cfg = copy.deepcopy(stage_mutable)
    cfg['module_kwargs'] = dict(
        in_channels=in_channels, out_channels=out_channels, stride=stride)
    return MODELS.build(cfg)


def test_candidates_built_with_module_kwargs(stage_mutable):
    op = build_op(stage_mutable)
    assert isinstance(op, OneShotMutableOP)
    assert op.choices == [
        'shuffle_3x3', 'shuffle_5x5', 'shuffle_7x7', 'shuffle_xception'
    ]
    for name in op.choices:
        cand = op._candidates[name]
        assert (cand.in_channels, cand.out_channels, cand.stride) == (16, 32,
                                                                      2)
    assert op._candidates['shuffle_7x7'].kernel_size == 7


def test_forward_single_path_and_unset(stage_mutable):
    op = build_op(stage_mutable).eval()
    x = torch.randn(2, 16, 8, 8)
    # No choice set: the sum of every candidate's output.
    assert op.current_choice is None
    expected = sum(op._candidates[n](x) for n in op.choices)
    with pytest.warns(UserWarning, match='no current choice'):
        torch.testing.assert_close(op(x), expected)
    op.current_choice = 'shuffle_5x5'
    torch.testing.assert_close(op(x), op._candidates['shuffle_5x5'](x))
    assert op(x).shape == (2, 32, 4, 4)


def test_single_path_gradients(stage_mutable):
    op = build_op(stage_mutable)
    op.current_choice = 'shuffle_xception'
    op(torch.randn(2, 16, 8, 8)).sum().backward()
    for name in op.choices:
        grads = [p.grad for p in op._candidates[name].parameters()]
        used = all(g is not None for g in grads)
        assert used == (name == 'shuffle_xception')


def test_fix_chosen_drops_other_candidates(stage_mutable):
    op = build_op(stage_mutable)
    op.fix_chosen('shuffle_3x3')
    assert op.is_fixed
    assert op.choices == ['shuffle_3x3']
    assert list(op._candidates.keys()) == ['shuffle_3x3']
    assert op.dump_chosen().chosen == 'shuffle_3x3'
    with pytest.raises(AttributeError, match='cannot be made searchable'):
        op.is_fixed = False
    with pytest.raises(ValueError, match='not one of its choices'):
        op.current_choice = 'shuffle_7x7'


def test_dump_chosen_needs_a_choice(stage_mutable):
    op = build_op(stage_mutable)
    with pytest.raises(RuntimeError, match='no current choice'):
        op.dump_chosen()
    op.current_choice = 'shuffle_7x7'
    dumped = op.dump_chosen()
    assert dumped.chosen == 'shuffle_7x7'
    assert dumped.meta['all_choices'] == op.choices


def test_bad_choice_names_allowed(stage_mutable):
    op = build_op(stage_mutable)
    with pytest.raises(ValueError) as err:
        op.current_choice = 'shuffle_9x9'
    assert "'shuffle_9x9'" in str(err.value)
    assert 'shuffle_xception' in str(err.value)


def test_empty_candidates():
    with pytest.raises(ValueError, match='`candidates` is empty'):
        MODELS.build(dict(type='OneShotMutableOP', candidates=dict()))


def test_unknown_op_type(stage_mutable):
    cfg = copy.deepcopy(stage_mutable)
    cfg['candidates']['shuffle_9x9'] = dict(type='ShuffleBlockk')
    with pytest.raises(KeyError) as err:
        build_op(cfg)
    msg = str(err.value)
    assert "'shuffle_9x9'" in msg and "'ShuffleBlockk'" in msg
    assert 'register' in msg
    assert "Did you mean 'ShuffleBlock'" in msg
    # close names only, not the whole registry
    assert "'MBBlock'" not in msg and len(msg) < 400


def test_unknown_op_type_of_differentiable_mutable():
    cfg = dict(type='mmrazor.DiffMutableOP',
               candidates=dict(a=dict(type='mmrazor.ShuffleBlokc')))
    with pytest.raises(KeyError, match="Did you mean 'ShuffleBlock'"):
        MODELS.build(cfg)


def test_built_modules_and_static_op():
    op = OneShotMutableOP(
        candidates=nn.ModuleDict(
            dict(a=nn.Conv2d(3, 4, 3, padding=1), b=nn.Conv2d(3, 4, 1))))
    op.current_choice = 'b'
    static = op.to_static_op()
    assert not any(isinstance(m, OneShotMutableOP) for m in static.modules())
    assert set(static.state_dict()) == {
        '_candidates.b.weight', '_candidates.b.bias'
    }
    x = torch.randn(1, 3, 5, 5)
    torch.testing.assert_close(static(x), op(x))


def test_alias_type_checked():
    with pytest.raises(TypeError, match='alias'):
        OneShotMutableOP(candidates=dict(a=nn.Identity()), alias=3)
