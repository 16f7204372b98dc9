# Copyright (c) OpenMMLab. All rights reserved.
import pytest

from mmrazor.models import BaseMutable, OneShotMutableValue
from mmrazor.registry import MODELS


def test_choices_and_default():
    mutable = MODELS.build(
        dict(type='OneShotMutableValue', value_list=[3, 5, 7]))
    assert isinstance(mutable, BaseMutable)
    assert mutable.choices == [3, 5, 7]
    assert mutable.current_choice == 7
    assert (mutable.min_choice, mutable.max_choice) == (3, 7)
    assert mutable.sample_choice() in (3, 5, 7)
    mutable.current_choice = 5
    assert mutable.dump_chosen().chosen == 5


def test_fix_chosen_is_one_way():
    mutable = OneShotMutableValue(value_list=[1, 2], default_value=1)
    mutable.fix_chosen(2)
    assert mutable.is_fixed and mutable.choices == [2]
    mutable.fix_chosen(2)  # fixing again to the same value is harmless
    with pytest.raises(AttributeError, match='already fixed to 2'):
        mutable.fix_chosen(1)
    with pytest.raises(AttributeError):
        mutable.is_fixed = False


@pytest.mark.parametrize('values', [[], [1, 1], None])
def test_bad_value_list(values):
    with pytest.raises(ValueError, match='value_list'):
        OneShotMutableValue(value_list=values)


def test_bad_choice_message():
    mutable = OneShotMutableValue(value_list=[3, 5], alias='kernel')
    with pytest.raises(ValueError) as err:
        mutable.current_choice = 4
    assert "alias 'kernel'" in str(err.value) and '[3, 5]' in str(err.value)
