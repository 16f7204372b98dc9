# Copyright (c) OpenMMLab. All rights reserved.
"""Group Fisher pruning: remove the least informative channel, one at a
time, while training."""
import json
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODEL_WRAPPERS, MODELS, in_mmrazor_scope

from ...mutables import GroupFisherChannelUnit
from ...mutators import ChannelMutator
from ...task_modules.estimators import ResourceEstimator
from ..base import BaseAlgorithm, LossResults, build_component
from ._structure import (
    load_structure_state,
    pruning_structure,
    structure_state,
)

# The name of the original MMRazor configs: mmengine's DDP wrapper serves
# (the algorithm works inside ``forward``). Its mutator name,
# ``GroupFisherChannelMutator``, is registered with the mutators.
MODEL_WRAPPERS.register_module(
    name='GroupFisherDDP', module=MMDistributedDataParallel)

_DEFAULT_MUTATOR = dict(
    type='GroupFisherChannelMutator',
    channel_unit_cfg=dict(type='GroupFisherChannelUnit'))


@MODELS.register_module()
class GroupFisherAlgorithm(BaseAlgorithm):
    """Prune the channel of least Fisher information every ``interval``
    iterations.

    Liu et al., "Group Fisher Pruning for Practical Network Compression",
    ICML 2021 (https://arxiv.org/abs/2108.00708).

    Each training iteration:

    1. the Fisher information the units recorded during the previous
       iteration's backward is added to their accumulators
       (:meth:`GroupFisherChannelUnit.accumulate`, normalised by the cost
       of a channel); that is one more iteration counted;
    2. when the count reaches a multiple of ``interval`` (and pruning has
       not stopped), the active channel of least accumulated Fisher
       information among the prunable units (those with more than one
       channel left) is pruned, every accumulator is reset, and the stop
       conditions are checked: ``max_prunes`` channels pruned, or the
       FLOPs of the architecture (``input_shape``, counted by
       ``ResourceEstimator``) at most ``target_flop_ratio`` of the
       original's;
    3. the units hook their layers, the architecture computes its losses,
       and the gradient hooks record ``sum_hw x * dL/dx`` per sample during
       the backward that follows.

    All of it runs inside ``forward`` (mode ``'loss'``), so the algorithm
    trains under mmengine's ``MMDistributedDataParallel`` as is (the
    Fisher of a batch is summed over processes before pruning, so every
    process prunes the same channel); ``'GroupFisherDDP'`` and
    ``'GroupFisherChannelMutator'`` are registered as aliases of that
    wrapper and of ``ChannelMutator``. Without a stop condition pruning goes
    on until training ends, as in the original MMRazor (there, hooks saved
    checkpoints at FLOPs thresholds).

    The structure (masks) and counters are saved in checkpoints
    (``_extra_state``); :attr:`pruning_structure` gives
    ``{unit name: active channels}``, and every pruned channel is logged.

    Args:
        architecture (dict | BaseModel): The model to prune.
        mutator (dict | ChannelMutator): The channel mutator, of
            ``GroupFisherChannelUnit`` units. Defaults to one found by a
            ``ChannelAnalyzer`` at 224x224.
        interval (int): Iterations between two pruned channels. Defaults to
            10.
        target_flop_ratio (float, optional): Stop once the FLOPs are at most
            this share of the original (in (0, 1]). Defaults to None.
        max_prunes (int, optional): Stop after pruning this many channels.
            Defaults to None.
        input_shape (Sequence[int]): Input shape for counting FLOPs.
            Defaults to (1, 3, 224, 224).
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
            Defaults to None: the architecture's own.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[Dict, ChannelMutator] = _DEFAULT_MUTATOR,
                 interval: int = 10,
                 target_flop_ratio: Optional[float] = None,
                 max_prunes: Optional[int] = None,
                 input_shape: Sequence[int] = (1, 3, 224, 224),
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        name = type(self).__name__
        if isinstance(interval, bool) or not isinstance(interval, int) or \
                interval < 1:
            raise ValueError(f'{name}: `interval` must be an int >= 1, but '
                             f'got {interval!r}')
        if target_flop_ratio is not None and not (
                isinstance(target_flop_ratio, (int, float))
                and 0 < target_flop_ratio <= 1):
            raise ValueError(f'{name}: `target_flop_ratio` must be in (0, 1]'
                             f' or None, but got {target_flop_ratio!r}')
        if max_prunes is not None and (isinstance(max_prunes, bool)
                                       or not isinstance(max_prunes, int)
                                       or max_prunes < 0):
            raise ValueError(f'{name}: `max_prunes` must be an int >= 0 or '
                             f'None, but got {max_prunes!r}')
        if isinstance(mutator, dict):
            mutator = in_mmrazor_scope(mutator)
        self.mutator = build_component(mutator, ChannelMutator, 'mutator',
                                       name)
        self.mutator.prepare_from_supernet(self.architecture)
        wrong = [u.name for u in self.mutator.units
                 if not isinstance(u, GroupFisherChannelUnit)]
        if wrong or not self.mutator.units:
            raise ValueError(
                f'{name}: the mutator must hold GroupFisherChannelUnit units '
                f'(channel_unit_cfg.type), but {wrong[:3] or "none"} are '
                f'not (or there are none; excluded: '
                f'{self.mutator.excluded[:3]})')
        self.interval = interval
        self.target_flop_ratio = target_flop_ratio
        self.max_prunes = max_prunes
        # A real forward: mask buffers shared by several layers do not
        # survive the estimator's meta-device run.
        self.estimator = ResourceEstimator(
            input_shape=input_shape,
            units=dict(flops=None, params=None),
            flops_params_cfg=dict(use_meta=False))
        self.num_steps = 0  # iterations whose Fisher was accumulated
        self.num_pruned = 0
        self.finished = max_prunes == 0
        self.original_flops: Optional[float] = None
        self.flops_ratio = 1.0

    # ------------------------------------------------------------ structure
    @property
    def prunable_units(self) -> List[GroupFisherChannelUnit]:
        """Units the algorithm may prune (see ``is_prunable``)."""
        return [u for u in self.mutator.units
                if u.is_prunable and not u.is_fixed]

    @property
    def pruning_structure(self) -> Dict[str, int]:
        """``{unit name: active channels}``: the current structure."""
        return pruning_structure(self.mutator)

    def current_flops(self) -> float:
        """FLOPs of the architecture at its current structure."""
        return float(self.estimator.estimate(self.architecture)['flops'])

    # -------------------------------------------------------------- pruning
    def accumulate(self) -> bool:
        """Fold the last backward's Fisher into the units' accumulators.

        Returns:
            bool: Whether any unit had recorded gradients.
        """
        recorded = False
        for unit in self.prunable_units:
            recorded |= unit.has_recorded()
            unit.accumulate()
        return recorded

    def prune_one(self) -> Optional[str]:
        """Prune the channel of least Fisher information of all prunable
        units, reset the accumulators and check the stop conditions.

        Returns:
            str | None: The unit pruned, or None if nothing was pruned.
        """
        if self.original_flops is None and self.target_flop_ratio:
            self.original_flops = self.current_flops()
        best, best_imp = None, float('inf')
        for unit in self.prunable_units:
            if unit.activated_channels <= 1:
                continue
            imp = unit.fisher_importance()
            if torch.isnan(imp).any():
                print_log(f'{type(self).__name__}: NaN Fisher information in '
                          f'unit {unit.name!r}; no channel pruned this time',
                          logger='current')
                self._reset()
                return None
            if float(imp.min()) < best_imp:
                best, best_imp = unit, float(imp.min())
        if best is None:
            self.finished = True
            print_log(f'{type(self).__name__}: every prunable unit is down to'
                      ' one channel; pruning stops', logger='current')
            return None
        index = best.prune_min_channel()
        self._reset()
        self.num_pruned += 1
        message = (f'{type(self).__name__}: pruned channel {index} of '
                   f'{best.name!r} (Fisher {best_imp:.3e}), '
                   f'{best.activated_channels}/{best.num_channels} left')
        if self.original_flops:
            self.flops_ratio = self.current_flops() / self.original_flops
            message += f'; FLOPs {self.flops_ratio:.4f} of the original'
        print_log(message, logger='current')
        self._check_finished()
        return best.name

    def _reset(self) -> None:
        for unit in self.prunable_units:
            unit.reset_fisher()

    def _check_finished(self) -> None:
        reasons = []
        if self.max_prunes is not None and self.num_pruned >= self.max_prunes:
            reasons.append(f'{self.num_pruned} channels pruned')
        if self.target_flop_ratio and \
                self.flops_ratio <= self.target_flop_ratio:
            reasons.append(f'FLOPs at {self.flops_ratio:.4f} of the original'
                           f' (target {self.target_flop_ratio})')
        if reasons:
            self.finished = True
            print_log(
                f'{type(self).__name__}: pruning stops ({", ".join(reasons)})'
                '; structure: ' + json.dumps(self.pruning_structure),
                logger='current')

    def before_train_step(self) -> None:
        """Steps 1 and 2 of the iteration (see the class docstring)."""
        if self.finished:
            return
        if self.accumulate():
            self.num_steps += 1
            if self.num_steps % self.interval == 0:
                self.prune_one()

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """Accumulate, maybe prune, then the losses with Fisher recording
        (in training, until pruning stops)."""
        if not self.training or self.finished:
            return super().loss(inputs, data_samples)
        self.before_train_step()
        if self.finished:
            return super().loss(inputs, data_samples)
        units = self.prunable_units
        for unit in units:
            unit.start_record()
        try:
            return super().loss(inputs, data_samples)
        finally:
            for unit in units:
                unit.end_record()

    # --------------------------------------------------------- checkpoints
    def get_extra_state(self) -> Dict[str, Any]:
        """Structure and counters, saved in the state dict."""
        return dict(
            structure=structure_state(self.mutator),
            num_steps=self.num_steps,
            num_pruned=self.num_pruned,
            finished=self.finished,
            original_flops=self.original_flops,
            flops_ratio=self.flops_ratio)

    def set_extra_state(self, state: Dict[str, Any]) -> None:
        """Restore :meth:`get_extra_state` (when a checkpoint loads)."""
        load_structure_state(self.mutator, state.get('structure', {}))
        self.num_steps = int(state.get('num_steps', 0))
        self.num_pruned = int(state.get('num_pruned', 0))
        self.finished = bool(state.get('finished', False))
        self.original_flops = state.get('original_flops')
        self.flops_ratio = float(state.get('flops_ratio', 1.0))
