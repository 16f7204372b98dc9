# Copyright (c) OpenMMLab. All rights reserved.
"""What training does when a loss is NaN or infinite.

One NaN or inf image (or a diverging learning rate) makes a loss non-finite;
the optimizer step that follows writes NaN into every weight it touches,
and a run that goes on saves checkpoints full of NaN. The checks here are
shared by :meth:`mmrazor.models.algorithms.BaseAlgorithm.parse_losses` (every
mmrazor algorithm, also under DDP) and
:class:`mmrazor.engine.hooks.NonFiniteLossHook` (plain models).

Two actions are accepted (:data:`NONFINITE_ACTIONS`):

- ``'raise'``: stop with a ``FloatingPointError`` naming the iteration and
  the loss terms;
- ``'skip'``: warn, naming them, and skip the batch: no parameter and no
  optimizer state changes.
"""
import math
from typing import Dict, Mapping

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.logging import MessageHub

#: The accepted values of ``NonFiniteLossHook(action=...)`` and
#: ``BaseAlgorithm.nonfinite_loss``.
NONFINITE_ACTIONS = ('raise', 'skip')


def check_nonfinite_action(action: str, owner: str) -> str:
    """Return ``action`` if it is one of :data:`NONFINITE_ACTIONS`.

    Args:
        action (str): The value to check.
        owner (str): Who received it, for the message.

    Raises:
        ValueError: Naming the value and the accepted ones.
    """
    if action not in NONFINITE_ACTIONS:
        raise ValueError(
            f'{owner}: the non-finite loss action must be one of '
            f'{list(NONFINITE_ACTIONS)}, but got {action!r}.')
    return action


def nonfinite_terms(log_vars: Mapping[str, torch.Tensor]) -> Dict[str, float]:
    """The loss terms of ``log_vars`` that are NaN or infinite.

    Only the keys mmengine's ``parse_losses`` sums (those containing
    ``'loss'``) count: other logged values (e.g. an accuracy) do not reach
    the weights. The total ``'loss'`` is reported alone only when every
    term is finite but their sum is not (e.g. ``inf - inf``). The common
    case, all finite, costs one device synchronisation.

    Args:
        log_vars (Mapping[str, Tensor]): The logged values of one step.

    Returns:
        dict: ``{name: value}`` of the non-finite terms, in order.
    """
    terms = {
        name: value.detach().float().mean()
        for name, value in log_vars.items()
        if 'loss' in name and isinstance(value, torch.Tensor)
    }
    if not terms or bool(torch.isfinite(torch.stack(list(
            terms.values()))).all()):
        return {}
    values = {k: float(v) for k, v in terms.items()}
    bad = {k: v for k, v in values.items() if not math.isfinite(v)}
    if len(bad) > 1:
        bad.pop('loss', None)
    return bad


def any_rank(flag: bool, device: torch.device) -> bool:
    """Whether ``flag`` is true on any rank (itself when not distributed).

    Every rank must take the same decision: a rank that stops or skips its
    backward while the others run theirs would leave them waiting in the
    gradient all-reduce.
    """
    if get_world_size() <= 1:
        return flag
    tensor = torch.tensor(float(flag), device=device)
    all_reduce(tensor, op='max')
    return bool(tensor.item())


def train_position() -> str:
    """``'iteration 5 (epoch 2)'`` from the current ``MessageHub``.

    mmengine's ``RuntimeInfoHook`` records the 0-based ``iter`` and
    ``epoch`` of the running step; they are printed 1-based, as mmengine's
    logs count. Outside a runner the text says so.
    """
    hub = MessageHub.get_current_instance()
    it = hub.get_info('iter')
    if it is None:
        return 'a training step outside a runner'
    epoch = hub.get_info('epoch')
    where = f'iteration {it + 1}'
    return where if epoch is None else f'{where} (epoch {epoch + 1})'


def nonfinite_message(terms: Mapping[str, float], position: str) -> str:
    """``'Non-finite loss at <position>: <term>=<value>, ...'``.

    Empty ``terms`` mean that another rank found them (see
    :func:`any_rank`).
    """
    shown = ', '.join(f'{k}={v}' for k, v in terms.items()) or \
        'on another rank (this rank\'s losses are finite)'
    return f'Non-finite loss at {position}: {shown}.'


#: The end of the error: what to do.
NONFINITE_HINT = (
    ' Check the data of this batch (NaN or inf pixels), lower the learning '
    "rate, or add custom_hooks=[dict(type='mmrazor.NonFiniteLossHook', "
    "action='skip')] to the config to skip such batches.")
