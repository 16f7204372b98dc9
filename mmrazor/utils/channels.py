# Copyright (c) OpenMMLab. All rights reserved.
"""Channel counts: rounding to a divisor, and choices (counts or ratios)
turned into counts.

Every channel mutable, unit and pruned-model builder turns its choices into
counts with :func:`choice_to_channels`, so that one ratio keeps the same
number of channels wherever it is given.
"""
import math
from typing import Optional, Union

from .validators import check_choice

CHOICE_MODES = ('number', 'ratio')


def make_divisible(value: float, divisor: int = 8,
                   min_value: Optional[int] = None,
                   min_ratio: float = 0.9) -> int:
    """Round ``value`` to a multiple of ``divisor``, losing at most 10%.

    The rounding of MobileNet-style networks: to the nearest multiple, at
    least ``min_value`` (``divisor`` by default), and one ``divisor`` more
    when rounding down would keep less than ``min_ratio`` of ``value``.

    Examples:
        >>> make_divisible(37.5, 8)
        40
        >>> make_divisible(10, 8)
        16
    """
    min_value = divisor if min_value is None else min_value
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < min_ratio * value:
        new_value += divisor
    return new_value


def check_choice_mode(owner: object, choice_mode: str) -> str:
    """Return ``choice_mode`` if it is ``'number'`` or ``'ratio'``."""
    return check_choice(owner, 'choice_mode', choice_mode, CHOICE_MODES)


def choice_to_channels(choice: Union[int, float],
                       num_channels: int,
                       choice_mode: Optional[str] = 'number',
                       owner: str = 'choice',
                       divisor: int = 1,
                       min_value: int = 1,
                       min_ratio: float = 0.9,
                       round_up: bool = False) -> int:
    """The number of channels (of ``num_channels``) a choice keeps.

    A choice is a count (``choice_mode='number'``: an int in
    ``[1, num_channels]``) or a ratio (``'ratio'``: a number in ``(0, 1]``
    of ``num_channels``); with ``choice_mode=None`` a float is a ratio and an
    int a count. The exact count is then rounded:

    - ``divisor == 1``: to the nearest int, at least ``min_value``;
    - ``divisor > 1``: by :func:`make_divisible` (nearest multiple, at least
      ``min_value``, losing at most ``1 - min_ratio``), or with
      ``round_up`` to the nearest int and then up to a multiple of
      ``divisor``;

    and kept within ``[1, num_channels]``.

    Args:
        choice (int | float): The count or ratio.
        num_channels (int): Channels of the full layer or unit.
        choice_mode (str, optional): ``'number'``, ``'ratio'`` or None (by
            type). Defaults to ``'number'``.
        owner (str): Who asks, for error messages. Defaults to 'choice'.
        divisor (int): Counts are multiples of it. Defaults to 1.
        min_value (int): Smallest count before clamping. Defaults to 1.
        min_ratio (float): See :func:`make_divisible`. Defaults to 0.9.
        round_up (bool): Round up to the divisor instead. Defaults to False.

    Returns:
        int: The number of channels.

    Examples:
        >>> choice_to_channels(0.5, 10, 'ratio')
        5
        >>> choice_to_channels(0.3, 10, 'ratio', divisor=4)
        4
        >>> choice_to_channels(5, 10, None, divisor=4, round_up=True)
        8
    """
    is_number = isinstance(choice, (int, float)) and \
        not isinstance(choice, bool)
    if choice_mode is None:
        choice_mode = 'ratio' if isinstance(choice, float) else 'number'
    if choice_mode == 'ratio':
        if not is_number or not 0 < choice <= 1:
            raise ValueError(f'{owner}: in choice_mode "ratio" a choice must '
                             f'be a float in (0, 1], but got {choice!r}')
        exact = num_channels * choice
    else:
        check_choice_mode(owner, choice_mode)
        if not is_number or not isinstance(choice, int) or \
                not 1 <= choice <= num_channels:
            raise ValueError(
                f'{owner}: in choice_mode "number" a choice must be an int in '
                f'[1, {num_channels}] (the channels it has), but got '
                f'{choice!r}')
        exact = choice
    if divisor == 1:
        number = max(min_value, int(round(exact)))
    elif round_up:
        number = max(min_value, int(round(exact)))
        number = math.ceil(number / divisor) * divisor
    else:
        number = make_divisible(exact, divisor, min_value, min_ratio)
    return max(1, min(number, num_channels))
