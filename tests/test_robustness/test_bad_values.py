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
