# Copyright (c) OpenMMLab. All rights reserved.
"""Turns the distillation losses off after a given epoch or iteration."""
from typing import Optional

from mmengine.hooks import Hook

from mmrazor.registry import HOOKS
from mmrazor.utils.model_wrappers import unwrap_model


def _check_count(name: str, value: Optional[int]) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f'StopDistillHook: {name} must be an int >= 0, '
                         f'got {value!r}.')


@HOOKS.register_module()
class StopDistillHook(Hook):
    """Stop distillation once ``stop_epoch`` epochs (or ``stop_iter``
    iterations) are done.

    From epoch ``stop_epoch`` on (0-based, so after ``stop_epoch`` full
    epochs), or from iteration ``stop_iter`` on (after ``stop_iter``
    training iterations; for iteration-based runs), the model trains on its
    own losses only: the hook calls the algorithm's ``stop_distillation()``
    (e.g. :meth:`SingleTeacherDistill.stop_distillation`), whose flag is a
    buffer, so a resumed run stays stopped.

    Once stopped, trainable connectors get no gradient: under DDP set
    ``find_unused_parameters = True`` in the config.

    Args:
        stop_epoch (int, optional): The first epoch without distill losses.
        stop_iter (int, optional): The first iteration without distill
            losses. Give exactly one of the two.
    """

    priority = 'LOW'

    def __init__(self,
                 stop_epoch: Optional[int] = None,
                 stop_iter: Optional[int] = None) -> None:
        if (stop_epoch is None) == (stop_iter is None):
            raise ValueError(
                'StopDistillHook: give exactly one of stop_epoch and '
                f'stop_iter, got stop_epoch={stop_epoch!r}, '
                f'stop_iter={stop_iter!r}.')
        _check_count('stop_epoch', stop_epoch)
        _check_count('stop_iter', stop_iter)
        self.stop_epoch = stop_epoch
        self.stop_iter = stop_iter

    def before_train_epoch(self, runner) -> None:
        """Stop distillation when the epoch reaches ``stop_epoch``."""
        if self.stop_epoch is not None and runner.epoch >= self.stop_epoch:
            self._stop(runner, f'epoch {runner.epoch}')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Stop distillation when the iteration reaches ``stop_iter``."""
        if self.stop_iter is not None and runner.iter >= self.stop_iter:
            self._stop(runner, f'iteration {runner.iter}')

    def _stop(self, runner, when: str) -> None:
        model = unwrap_model(runner.model)
        stop = getattr(model, 'stop_distillation', None)
        if not callable(stop):
            raise TypeError(
                f'StopDistillHook: {type(model).__name__} has no '
                f'stop_distillation(); use it with a distillation algorithm '
                f'such as SingleTeacherDistill.')
        if not bool(getattr(model, 'distillation_stopped', False)):
            runner.logger.info(
                f'StopDistillHook: distillation stopped at {when}.')
            stop()
