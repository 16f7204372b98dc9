# Copyright (c) OpenMMLab. All rights reserved.
"""Turns the distillation losses off after a given epoch."""
from mmengine.hooks import Hook

from mmrazor.registry import HOOKS
from mmrazor.utils.model_wrappers import unwrap_model


@HOOKS.register_module()
class StopDistillHook(Hook):
    """Stop distillation once ``stop_epoch`` epochs are done.

    From epoch ``stop_epoch`` on (0-based, so after ``stop_epoch`` full
    epochs) the model trains on its own losses only: the hook calls the
    algorithm's ``stop_distillation()`` (e.g.
    :meth:`SingleTeacherDistill.stop_distillation`), whose flag is a
    buffer, so a resumed run stays stopped.

    Once stopped, trainable connectors get no gradient: under DDP set
    ``find_unused_parameters = True`` in the config.

    Args:
        stop_epoch (int): The first epoch without distill losses.
    """

    priority = 'LOW'

    def __init__(self, stop_epoch: int) -> None:
        if isinstance(stop_epoch, bool) or not isinstance(stop_epoch, int) \
                or stop_epoch < 0:
            raise ValueError(f'StopDistillHook: stop_epoch must be an int '
                             f'>= 0, got {stop_epoch!r}.')
        self.stop_epoch = stop_epoch

    def before_train_epoch(self, runner) -> None:
        """Stop distillation when the epoch reaches ``stop_epoch``."""
        if runner.epoch < self.stop_epoch:
            return
        model = unwrap_model(runner.model)
        stop = getattr(model, 'stop_distillation', None)
        if not callable(stop):
            raise TypeError(
                f'StopDistillHook: {type(model).__name__} has no '
                f'stop_distillation(); use it with a distillation algorithm '
                f'such as SingleTeacherDistill.')
        if not bool(getattr(model, 'distillation_stopped', False)):
            runner.logger.info(
                f'StopDistillHook: distillation stopped at epoch '
                f'{runner.epoch}.')
        stop()
