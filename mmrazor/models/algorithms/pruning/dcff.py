# Copyright (c) OpenMMLab. All rights reserved.
"""DCFF: train a compact network whose filters are dynamic fusions."""
import math
from typing import Dict, Optional, Union

import torch.nn as nn
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel

from mmrazor.registry import MODELS

from ...mutables import DCFFChannelUnit
from ...mutables.mutable_channel.units.dcff_unit import dcff_temperature
from ...mutators import ChannelMutator
from .ite_prune_algorithm import ItePruneAlgorithm

_DEFAULT_MUTATOR = dict(
    type='DCFFChannelMutator',
    channel_unit_cfg=dict(
        type='DCFFChannelUnit', default_args=dict(choice_mode='ratio')))


@MODELS.register_module()
class DCFF(ItePruneAlgorithm):
    """Dynamic-coded Filter Fusion.

    Lin et al., "Training Compact CNNs for Image Classification using
    Dynamic-coded Filter Fusion", TPAMI 2023
    (https://arxiv.org/abs/2107.06916).

    The mutator's ``DCFFChannelUnit`` units keep ``k`` channels per unit
    (``target_pruning_ratio``) and compute the ``k`` filters of each of
    their convolutions as fusions of all ``c`` filters (see
    :class:`~mmrazor.models.mutables.DCFFChannelUnit`). The fusion is
    recomputed from the current filters at every step: every ``step_freq``
    iterations (epochs when ``by_epoch``), ``prune_times`` steps in all
    (by default as many as the training holds: one per ``step_freq``).
    Step ``i`` (0-based) of ``n`` uses the temperature
    ``T(i) = A / (1 + exp(-k i)) + t_s - A / 2``, ``A = 2 (t_e - t_s)
    (1 + exp(-k (n - 1))) / (1 - exp(-k (n - 1)))``, which rises from
    ``t_s = temperature_start`` to ``t_e = temperature_end``: the fused
    filters start as broad averages and end as (nearly) the most important
    filters themselves. The widths follow the schedule of
    :class:`ItePruneAlgorithm` (``linear_schedule=False``: the target from
    the first step, as in the paper and the original configs).

    Gradients flow to all ``c`` filters through the fusion; the exported
    model (:func:`mmrazor.models.utils.export_pruned_model`) holds the ``k``
    fused filters. The fusion matrices are buffers of the units, saved in
    checkpoints.

    Args:
        architecture (dict | BaseModel): The model to compress.
        mutator_cfg (dict | ChannelMutator): The channel mutator, of
            ``DCFFChannelUnit`` units. Defaults to ratio-mode units found by
            a ``ChannelAnalyzer``.
        target_pruning_ratio (dict | str, optional): ``{unit name: choice}``
            or a json/yaml file; see :class:`ItePruneAlgorithm`.
        step_freq (int): Iterations (or epochs) between two fusion updates.
            Defaults to 1.
        prune_times (int, optional): Number of fusion updates. Defaults to
            None: one every ``step_freq`` until training ends.
        linear_schedule (bool): Whether the widths move linearly to the
            target over the steps. Defaults to False.
        temperature_start (float): ``t_s``. Defaults to 1.
        temperature_end (float): ``t_e``. Defaults to 1e4.
        temperature_k (float): ``k``, the steepness of the schedule.
            Defaults to 1.
        is_deployed (bool): Accepted for the original configs; must be
            False (deploy with the config that
            ``tools/pruning/get_static_model_from_algorithm.py`` writes).
        by_epoch (bool, optional): See :class:`ItePruneAlgorithm`.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
        init_cfg (dict, optional): Initialisation config.
    """

    open_schedule = True

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator_cfg: Union[Dict, ChannelMutator] = _DEFAULT_MUTATOR,
                 target_pruning_ratio: Union[None, str, Dict] = None,
                 step_freq: int = 1,
                 prune_times: Optional[int] = None,
                 linear_schedule: bool = False,
                 temperature_start: float = 1.0,
                 temperature_end: float = 1e4,
                 temperature_k: float = 1.0,
                 is_deployed: bool = False,
                 by_epoch: Optional[bool] = None,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if is_deployed:
            raise ValueError(
                'DCFF: is_deployed=True is not supported; export the trained '
                'model with tools/pruning/get_static_model_from_algorithm.py '
                'and use the deploy config it writes')
        if not 0 < temperature_start <= temperature_end:
            raise ValueError(
                'DCFF: need 0 < temperature_start <= temperature_end, but got'
                f' {temperature_start!r} and {temperature_end!r}')
        if not temperature_k > 0:
            raise ValueError(f'DCFF: `temperature_k` must be > 0, but got '
                             f'{temperature_k!r}')
        super().__init__(architecture, mutator_cfg, target_pruning_ratio,
                         step_freq, prune_times, linear_schedule, by_epoch,
                         data_preprocessor, init_cfg)
        wrong = [u.name for u in self.mutator.units
                 if not isinstance(u, DCFFChannelUnit)]
        if wrong:
            raise ValueError(
                f'DCFF: the mutator must hold DCFFChannelUnit units '
                f'(channel_unit_cfg.type), but {wrong[:3]} are not')
        self.temperature_start = float(temperature_start)
        self.temperature_end = float(temperature_end)
        self.temperature_k = float(temperature_k)

    def _resolve_freq(self) -> int:
        freq = super()._resolve_freq()
        if self.prune_times is None:
            max_iters = MessageHub.get_current_instance().get_info(
                'max_iters')
            if not max_iters:
                raise RuntimeError(
                    'DCFF: prune_times=None (update until training ends) '
                    'needs the runner\'s `max_iters`; give prune_times')
            self.prune_times = max(1, math.ceil(max_iters / freq))
        return freq

    def temperature(self, times: int) -> float:
        """The temperature of fusion step ``times`` (1-based)."""
        return dcff_temperature(times - 1, (self.prune_times or times) - 1,
                                self.temperature_start, self.temperature_end,
                                self.temperature_k)

    def prune_step(self, times: int) -> None:
        """Set the widths of step ``times``, then recompute every unit's
        fusion at that step's temperature."""
        super().prune_step(times)
        temperature = self.temperature(times)
        for unit in self.mutator.units:
            unit.update_fusion(temperature)
        print_log(f'DCFF: filters fused at temperature {temperature:.4g}',
                  logger='current')
