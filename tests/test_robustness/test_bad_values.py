# Copyright (c) OpenMMLab. All rights reserved.
"""Values of the wrong type or sign are refused or warned about."""
import pytest
import torch

from mmrazor.registry import MODELS
from mmrazor.structures import load_fix_subnet


def test_bool_chosen_for_int_mutable(tmp_path):
    model = torch.nn.Sequential(
        MODELS.build(dict(type='mmrazor.OneShotMutableValue',
                          value_list=[1, 2, 3])))
    path = tmp_path / 'subnet.yaml'
    path.write_text("'0':\n  chosen: true\n")
    with pytest.raises(ValueError, match=r'choice True.*\[1, 2, 3\]'):
        load_fix_subnet(model, str(path))
    load_fix_subnet(model, {'0': {'chosen': 1}})
    assert model[0].current_choice == 1


def test_bool_choices_still_work():
    mutable = MODELS.build(dict(type='mmrazor.OneShotMutableValue',
                                value_list=[False, True]))
    mutable.current_choice = True
    assert mutable.current_choice is True


def test_negative_loss_weight_warns():
    with pytest.warns(UserWarning, match='loss_weight=-1.0 is negative'):
        MODELS.build(dict(type='mmrazor.KLDivergence', loss_weight=-1.0))


def test_input_shape_of_wrong_length_named():
    from mmrazor.registry import TASK_UTILS
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 30 * 30, 2))
    estimator = TASK_UTILS.build(
        dict(type='mmrazor.ResourceEstimator', input_shape=(3, 32, 32)))
    with pytest.raises(RuntimeError,
                       match=r'shape \(3, 32, 32\) \(input_shape, batch '
                       r'first\) failed'):
        estimator.estimate(model)


@pytest.mark.parametrize('row,pattern', [
    ([16, 0, 'S'], r'arch_setting\[0\] num_blocks must be an int >= 1, but '
     r'got 0'),
    (['16', 1, 'S'], r"arch_setting\[0\] channel must be an int >= 1, but "
     r"got '16'"),
])
def test_arch_setting_rows_checked(row, pattern):
    mutable = dict(type='mmrazor.OneShotMutableOP',
                   candidates=dict(shuffle_3x3=dict(type='mmrazor.ShuffleBlock',
                                                    kernel_size=3)))
    row = [mutable if v == 'S' else v for v in row]
    with pytest.raises(ValueError, match=pattern):
        MODELS.build(dict(type='mmrazor.SearchableShuffleNetV2',
                          arch_setting=[row], widen_factor=1.0))
