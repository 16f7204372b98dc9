# Copyright (c) OpenMMLab. All rights reserved.
"""Anneals the temperature of Gumbel-softmax routes during training."""
import math
from typing import List, Optional

from mmengine.hooks import Hook

from mmrazor.models.mutables import GumbelChoiceRoute
from mmrazor.registry import HOOKS

_SCHEDULES = ('linear', 'exp', 'cosine')


def gumbel_temperature(progress: float, tau_max: float, tau_min: float,
                       schedule: str = 'linear') -> float:
    """The temperature at ``progress`` in [0, 1] of a schedule from
    ``tau_max`` (progress 0) to ``tau_min`` (progress 1).

    ``linear``: ``tau_max + (tau_min - tau_max) * t``; ``exp``: geometric,
    ``tau_max * (tau_min / tau_max) ** t``; ``cosine``: ``tau_min + (tau_max
    - tau_min) * (1 + cos(pi * t)) / 2``.

    Args:
        progress (float): Where training is, clipped to [0, 1].
        tau_max (float): The first temperature.
        tau_min (float): The last temperature.
        schedule (str): 'linear', 'exp' or 'cosine'. Defaults to 'linear'.

    Returns:
        float: The temperature.
    """
    t = min(max(float(progress), 0.), 1.)
    if schedule == 'linear':
        return tau_max + (tau_min - tau_max) * t
    if schedule == 'exp':
        return tau_max * (tau_min / tau_max)**t
    if schedule == 'cosine':
        return tau_min + (tau_max - tau_min) * (1 + math.cos(math.pi * t)) / 2
    raise ValueError(f'gumbel_temperature: `schedule` must be one of '
                     f'{list(_SCHEDULES)}, but got {schedule!r}')


@HOOKS.register_module()
class GumbelTemperatureHook(Hook):
    """Sets the temperature of every
    :class:`~mmrazor.models.mutables.GumbelChoiceRoute` of the model from a
    schedule, before each training epoch (or iteration).

    GDAS (Dong and Yang, "Searching for A Robust Neural Architecture in Four
    GPU Hours", CVPR 2019, https://arxiv.org/abs/1910.04465) lowers the
    temperature linearly from 10 to 0.1 over the search: the defaults. The
    first epoch (iteration) runs at ``tau_max``, the last at ``tau_min``.
    The temperature is a function of the epoch (iteration) alone, so a
    resumed run continues the schedule; it is logged as ``gumbel_tau``.

    In a config::

        custom_hooks = [dict(type='mmrazor.GumbelTemperatureHook',
                             tau_max=10., tau_min=0.1, schedule='linear')]

    Args:
        tau_max (float): The first temperature, > 0. Defaults to 10.0.
        tau_min (float): The last temperature, > 0. Defaults to 0.1.
        schedule (str): 'linear', 'exp' (geometric) or 'cosine'. Defaults to
            'linear'.
        by_epoch (bool): Step the schedule per epoch (else per iteration).
            Defaults to True.
    """

    priority = 'HIGH'

    def __init__(self,
                 tau_max: float = 10.0,
                 tau_min: float = 0.1,
                 schedule: str = 'linear',
                 by_epoch: bool = True) -> None:
        for name, value in (('tau_max', tau_max), ('tau_min', tau_min)):
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not value > 0:
                raise ValueError(f'GumbelTemperatureHook: `{name}` must be a '
                                 f'number > 0, but got {value!r}')
        if schedule not in _SCHEDULES:
            raise ValueError(f'GumbelTemperatureHook: `schedule` must be one'
                             f' of {list(_SCHEDULES)}, but got {schedule!r}')
        self.tau_max = float(tau_max)
        self.tau_min = float(tau_min)
        self.schedule = schedule
        self.by_epoch = by_epoch
        self._routes: List[GumbelChoiceRoute] = []
        #: The temperature set last, or None before training.
        self.tau: Optional[float] = None

    def before_train(self, runner) -> None:
        """Find the routes; a model without any is an error."""
        # (modules() also walks into DDP wrappers)
        self._routes = [
            m for m in runner.model.modules()
            if isinstance(m, GumbelChoiceRoute)
        ]
        if not self._routes:
            raise RuntimeError(
                'GumbelTemperatureHook found no GumbelChoiceRoute in the '
                f'model ({type(runner.model).__name__}); build the supernet '
                "with route_cfg=dict(type='mmrazor.GumbelChoiceRoute') or "
                'remove the hook')

    def before_train_epoch(self, runner) -> None:
        if self.by_epoch:
            self._set(runner, runner.epoch, runner.max_epochs)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if not self.by_epoch:
            self._set(runner, runner.iter, runner.max_iters)

    def _set(self, runner, step: int, total: int) -> None:
        progress = step / (total - 1) if total > 1 else 1.
        self.tau = gumbel_temperature(progress, self.tau_max, self.tau_min,
                                      self.schedule)
        for route in self._routes:
            route.set_temperature(self.tau)
        runner.message_hub.update_scalar('train/gumbel_tau', self.tau)
