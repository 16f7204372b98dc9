# Copyright (c) OpenMMLab. All rights reserved.
"""Rounding of channel counts."""
from typing import Optional


def make_divisible(value: float, divisor: int = 8,
                   min_value: Optional[int] = None,
                   min_ratio: float = 0.9) -> int:
    """Round ``value`` to a multiple of ``divisor``, losing at most 10%.

    The rounding of MobileNet-style networks: to the nearest multiple, at
    least ``min_value`` (``divisor`` by default), and one ``divisor`` more
    when rounding down would keep less than ``min_ratio`` of ``value``.
    """
    min_value = divisor if min_value is None else min_value
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < min_ratio * value:
        new_value += divisor
    return new_value
