# Copyright (c) OpenMMLab. All rights reserved.
"""The shared argument checks: one message form naming owner, field,
accepted values and the value received."""
import pytest

from mmrazor.utils.validators import (
    check_choice,
    check_int,
    check_non_negative,
    check_number,
    check_positive,
    check_positive_int,
    close_matches,
    did_you_mean,
)


class Owner:
    pass


@pytest.mark.parametrize('call, message', [
    (lambda: check_int('Loop', 'top_k', 7, low=1, high=6),
     'Loop: `top_k` must be an int in [1, 6], but got 7'),
    (lambda: check_int('Loop', 'n', True, low=0),
     'Loop: `n` must be an int >= 0, but got True'),
    (lambda: check_positive_int(Owner(), 'dim_in', 0),
     'Owner: `dim_in` must be an int >= 1, but got 0'),
    (lambda: check_choice(Owner(), 'mode', 'x', ('a', 'b')),
     "Owner: `mode` must be one of ['a', 'b'], but got 'x'"),
    (lambda: check_positive('KD', 'tau', 0),
     'KD: `tau` must be a number > 0, but got 0'),
    (lambda: check_non_negative('KD', 'alpha', -1.0),
     'KD: `alpha` must be a number >= 0, but got -1.0'),
    (lambda: check_number('KD', 'w', float('nan')),
     'KD: `w` must be a finite number, but got nan'),
    (lambda: check_number('KD', 'p', 1.0, low=0, high=1, high_open=True),
     'KD: `p` must be a number in [0, 1), but got 1.0'),
])
def test_messages(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value) == message


def test_accepted_values_are_returned():
    assert check_int('L', 'k', 3, low=1, high=3) == 3
    assert check_choice('L', 'm', 'b', {'a': 1, 'b': 2}) == 'b'
    assert check_number('L', 'p', 0.5, low=0, high=1) == 0.5
    assert check_positive('L', 't', 2) == 2


def test_close_matches_ignore_case_and_suggest():
    names = ['ShuffleBlock', 'ShuffleXception', 'MBBlock']
    assert close_matches('shuffleblock', names)[0] == 'ShuffleBlock'
    assert did_you_mean('ShuffleBlok', names).startswith(
        " Did you mean 'ShuffleBlock'")
    assert did_you_mean('MBBlok', names) == " Did you mean 'MBBlock'?"
    assert did_you_mean('Zzz', names) == ''
