# Copyright (c) OpenMMLab. All rights reserved.
"""A process-wide counter of choice changes.

Every change of a channel mutable or a value mutable (through its
``current_choice`` or ``fix_chosen``) and every registration of a mutable in
a dynamic op bumps the counter. Dynamic ops key their inference caches on
it: while no choice changes, a forward reuses the sliced weights of the
previous one after a single integer comparison.
"""

_EPOCH = [0]


def bump_choice_epoch() -> None:
    """Record that some choice changed."""
    _EPOCH[0] += 1


def choice_epoch() -> int:
    """The number of choice changes so far."""
    return _EPOCH[0]
