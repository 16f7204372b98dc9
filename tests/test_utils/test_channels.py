# Copyright (c) OpenMMLab. All rights reserved.
"""One ratio-to-count rule for mutables, units and deploy models."""
import pytest

from mmrazor.models.mutables import (
    OneShotMutableChannel,
    SequentialMutableChannel,
    SequentialMutableChannelUnit,
    SquentialMutableChannel,
)
from mmrazor.registry import MODELS
from mmrazor.utils.channels import choice_to_channels, make_divisible


@pytest.mark.parametrize('ratio', [0.05, 0.25, 0.3, 0.5, 0.55, 0.9, 1.0])
def test_same_count_everywhere(ratio):
    expected = max(1, round(20 * ratio))
    channel = SequentialMutableChannel(20, choice_mode='ratio')
    channel.current_choice = ratio
    unit = SequentialMutableChannelUnit(20, choice_mode='ratio')
    one_shot = OneShotMutableChannel(20, [ratio], choice_mode='ratio')
    assert channel.activated_channels == expected
    assert unit.choice_to_number(ratio) == expected
    assert one_shot.activated_channels == expected
    assert choice_to_channels(ratio, 20, None) == expected


def test_rounding_to_a_divisor():
    # nearest multiple, at most 10% lost (MobileNet rounding): 9 -> 8
    # would lose 11%, so 16
    assert choice_to_channels(0.45, 20, 'ratio', divisor=8) == 16
    assert choice_to_channels(0.35, 20, 'ratio', divisor=4) == 8
    assert make_divisible(9, 8) == 16
    # deploy models round up, capped at the channels
    assert choice_to_channels(9, 20, None, divisor=8, round_up=True) == 16
    assert choice_to_channels(19, 20, None, divisor=8, round_up=True) == 20


def test_errors_name_mode_range_and_value():
    with pytest.raises(ValueError,
                       match=r'X: in choice_mode "ratio" .*\(0, 1\], but got '
                       r'1.5'):
        choice_to_channels(1.5, 8, 'ratio', 'X')
    with pytest.raises(ValueError, match=r'int in \[1, 8\].*got 0'):
        choice_to_channels(0, 8, 'number', 'X')
    with pytest.raises(ValueError, match=r'`choice_mode` must be one of'):
        choice_to_channels(1, 8, 'count', 'X')


def test_misspelled_name_is_an_alias():
    assert SquentialMutableChannel is SequentialMutableChannel
    assert SequentialMutableChannel.__name__ == 'SequentialMutableChannel'
    built = MODELS.build(dict(type='mmrazor.SquentialMutableChannel',
                              num_channels=4))
    assert type(built) is SequentialMutableChannel
