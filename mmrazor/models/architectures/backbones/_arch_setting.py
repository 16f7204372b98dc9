# Copyright (c) OpenMMLab. All rights reserved.
"""Checks of the ``arch_setting`` rows of the searchable backbones."""
from typing import Any


def check_layer_setting(owner: str, row: int, channel: Any,
                        num_blocks: Any) -> None:
    """Raise unless an ``arch_setting`` row has a positive int channel count
    and a positive int number of blocks (a zero would drop the stage)."""
    for field, value in (('channel', channel), ('num_blocks', num_blocks)):
        if isinstance(value, bool) or not isinstance(value, int) or \
                value < 1:
            raise ValueError(
                f'{owner}: arch_setting[{row}] {field} must be an int >= 1, '
                f'but got {value!r}')
