# Copyright (c) OpenMMLab. All rights reserved.
"""Stop (or skip the batch) when a training loss is NaN or infinite."""
from mmengine.hooks import Hook

from mmrazor.registry import HOOKS
from mmrazor.utils.model_wrappers import unwrap_model
from mmrazor.utils.nonfinite import (
    NONFINITE_HINT,
    any_rank,
    check_nonfinite_action,
    nonfinite_message,
    nonfinite_terms,
    train_position,
)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Say what training does when a loss is NaN or infinite.

    ``tools/train.py`` adds ``NonFiniteLossHook(action='raise')`` to every
    config that has none (see :func:`mmrazor.engine.add_default_hooks`); to
    skip such batches instead, put one in the config::

        custom_hooks = [dict(type='mmrazor.NonFiniteLossHook',
                             action='skip')]

    - With an mmrazor algorithm (anything with a ``nonfinite_loss``
      attribute, i.e. every
      :class:`~mmrazor.models.algorithms.BaseAlgorithm`), the hook sets that
      attribute before training and the algorithm's ``parse_losses`` acts
      before the optimizer step: ``'raise'`` stops with a
      ``FloatingPointError`` naming the iteration and the loss terms,
      ``'skip'`` warns and skips the batch (no weight, buffer or optimizer
      state changes). Algorithms raise without this hook too.
    - With any other model (e.g. a plain mmcls classifier), the hook checks
      the logged losses after each iteration, before any later hook saves
      a checkpoint: ``'raise'`` stops there (the optimizer step of that
      iteration has been taken, but nothing is saved); ``'skip'`` is
      refused, since the step cannot be undone.

    Under DDP every rank takes the same decision (one all-reduce of a flag
    per iteration).

    Args:
        action (str): ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
    """

    # Before CheckpointHook (VERY_LOW) and the logger, in after_train_iter.
    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'raise') -> None:
        self.action = check_nonfinite_action(action, 'NonFiniteLossHook')
        self._check_outputs = False

    def before_train(self, runner) -> None:
        """Hand the action to the algorithm, or check outputs ourselves."""
        model = unwrap_model(runner.model)
        if hasattr(model, 'nonfinite_loss'):
            model.nonfinite_loss = self.action
            self._check_outputs = False
            return
        if self.action == 'skip':
            raise ValueError(
                f"NonFiniteLossHook(action='skip') needs an mmrazor "
                f'algorithm (e.g. SPOS, SingleTeacherDistill), which checks '
                f'the loss before the optimizer step; the model is a '
                f'{type(model).__name__}, whose train_step takes the step '
                f"first. Use action='raise' with it.")
        self._check_outputs = True

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """For plain models: raise if a logged loss is not finite."""
        if not self._check_outputs or not outputs:
            return
        terms = nonfinite_terms(outputs)
        first = next(iter(outputs.values()))
        device = first.device if hasattr(first, 'device') else 'cpu'
        if any_rank(bool(terms), device):
            raise FloatingPointError(
                nonfinite_message(terms, train_position()) +
                ' Training stopped after the optimizer step of this '
                'iteration and before any checkpoint of it was written.' +
                NONFINITE_HINT)
