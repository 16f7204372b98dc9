# Copyright (c) OpenMMLab. All rights reserved.
"""A process-wide counter of choice changes and weight updates.

Every change of a channel mutable or a value mutable (through its
``current_choice`` or ``fix_chosen``), every registration of a mutable in a
dynamic op and every optimizer step (a global post-step hook of
``torch.optim``) bumps the counter. Dynamic ops key their inference caches
on it: while it holds, a forward reuses the sliced weights of the previous
one after a few comparisons.
"""
from typing import Any

from torch.optim.optimizer import register_optimizer_step_post_hook

_EPOCH = [0]


def bump_choice_epoch() -> None:
    """Record that some choice changed."""
    _EPOCH[0] += 1


def choice_epoch() -> int:
    """The number of choice changes so far."""
    return _EPOCH[0]


def _after_optimizer_step(optimizer: Any, args: Any, kwargs: Any) -> None:
    bump_choice_epoch()


register_optimizer_step_post_hook(_after_optimizer_step)
