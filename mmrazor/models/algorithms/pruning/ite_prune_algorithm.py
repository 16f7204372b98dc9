# Copyright (c) OpenMMLab. All rights reserved.
"""Iterative pruning to a target structure during training."""
from typing import Any, Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODELS, in_mmrazor_scope

from ...mutators import ChannelMutator
from ...utils.sub_model import resolve_cfg_path
from ..base import BaseAlgorithm, LossResults, build_component
from ._structure import (
    Choice,
    check_target,
    load_structure_state,
    load_target,
    pruning_structure,
    structure_state,
)

_DEFAULT_MUTATOR = dict(
    type='ChannelMutator',
    channel_unit_cfg=dict(
        type='L1MutableChannelUnit', default_args=dict(choice_mode='ratio')))


def _positive_int(value: Any, field: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{owner}: `{field}` must be an int >= 1, but got '
                         f'{value!r}')
    return value


@MODELS.register_module()
class ItePruneAlgorithm(BaseAlgorithm):
    """Prune a model step by step to a target structure while it trains.

    The mutator (by default ``L1MutableChannelUnit`` units found by a
    ``ChannelAnalyzer``) makes the architecture's layers dynamic. Every
    ``step_freq`` iterations (epochs when ``by_epoch``), for ``prune_times``
    steps, each unit named in ``target_pruning_ratio`` takes the choice of
    that step: with ``linear_schedule``, the ``i``-th step moves it
    ``i / prune_times`` of the way from its full width (ratio 1.0, or its
    channel count) to its target, so the target is reached exactly at step
    ``prune_times``; without, every step sets the target. The first step
    runs before the first training iteration. With L1 units a step keeps the
    filters of largest L1 norm (Li et al., "Pruning Filters for Efficient
    ConvNets", ICLR 2017, https://arxiv.org/abs/1608.08710); the other
    filters stay in the model, masked.

    The structure (every unit's choice and mask) and the step counter are
    saved in checkpoints (the algorithm's ``_extra_state``), so a run
    resumes, and an exported model keeps, the channels it trained with.
    Export the pruned model with
    :func:`mmrazor.models.utils.export_pruned_model` or
    ``tools/pruning/get_static_model_from_algorithm.py``.

    Args:
        architecture (dict | BaseModel): The model to prune, e.g. an mmcls
            ``ImageClassifier``, or ``dict(cfg_path='mmcls::...',
            pretrained=False)``, the ``model`` of another package's config.
        mutator_cfg (dict | ChannelMutator): The channel mutator. Defaults to
            a ``ChannelMutator`` of ratio-mode ``L1MutableChannelUnit``.
        target_pruning_ratio (dict | str, optional): ``{unit name: choice}``
            (a ratio in ratio mode, a count in number mode), or a json/yaml
            file of it; a value may also be a unit config with a ``choice``
            (``mutator.config_template()`` writes that form). Units left out
            keep their width. Defaults to None: no pruning.
        step_freq (int): Iterations (or epochs) between two steps. Defaults
            to 1.
        prune_times (int): Number of steps. Defaults to 1.
        linear_schedule (bool): Whether the steps move linearly to the
            target. Defaults to True.
        by_epoch (bool, optional): Whether ``step_freq`` counts epochs.
            Defaults to None: epochs when the runner's train loop has more
            than one epoch (``max_epochs`` in the message hub), as the
            original MMRazor decides.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
            Defaults to None: the architecture's own.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    # Whether ``prune_times=None`` (resolved from the runner) is accepted.
    open_schedule = False

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator_cfg: Union[Dict, ChannelMutator] = _DEFAULT_MUTATOR,
                 target_pruning_ratio: Union[None, str, Dict] = None,
                 step_freq: int = 1,
                 prune_times: int = 1,
                 linear_schedule: bool = True,
                 by_epoch: Optional[bool] = None,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        architecture = resolve_cfg_path(architecture, 'architecture',
                                        type(self).__name__)
        super().__init__(architecture, data_preprocessor, init_cfg)
        name = type(self).__name__
        self.step_freq = _positive_int(step_freq, 'step_freq', name)
        if prune_times is None and not self.open_schedule:
            raise ValueError(f'{name}: `prune_times` must be an int >= 1, '
                             'but got None')
        self.prune_times = prune_times if prune_times is None else \
            _positive_int(prune_times, 'prune_times', name)
        self.linear_schedule = bool(linear_schedule)
        self.by_epoch = by_epoch
        if isinstance(mutator_cfg, dict):
            mutator_cfg = in_mmrazor_scope(mutator_cfg)
        self.mutator = build_component(mutator_cfg, ChannelMutator,
                                       'mutator_cfg', name)
        self.mutator.prepare_from_supernet(self.architecture)
        if not self.mutator.units:
            raise ValueError(
                f'{name}: the mutator found no prunable channel unit in the '
                f'architecture; excluded: {self.mutator.excluded[:3]}')
        self.target_pruning_ratio = load_target(target_pruning_ratio)
        check_target(self.mutator, self.target_pruning_ratio)
        units = self.units_by_name
        self.initial_choices: Dict[str, Choice] = {
            n: units[n].current_choice
            for n in self.target_pruning_ratio
        }
        self.num_steps = 0  # training iterations run
        self.num_prunes = 0  # pruning steps applied
        self._freq_iters: Optional[int] = None

    # ------------------------------------------------------------ structure
    @property
    def units_by_name(self) -> Dict[str, Any]:
        """The mutator's units by name."""
        return {unit.name: unit for unit in self.mutator.units}

    @property
    def pruning_structure(self) -> Dict[str, int]:
        """``{unit name: active channels}``: the current structure."""
        return pruning_structure(self.mutator)

    def choices_at(self, times: int) -> Dict[str, Choice]:
        """The choices after pruning step ``times`` (1 to ``prune_times``).

        Args:
            times (int): The step.

        Returns:
            dict: ``{unit name: choice}`` of the units in the target.
        """
        total = self.prune_times or times
        if not 1 <= times <= total:
            raise ValueError(f'{type(self).__name__}: step {times} is out of '
                             f'[1, {total}]')
        result = {}
        for name, target in self.target_pruning_ratio.items():
            if not self.linear_schedule or times == total:
                result[name] = target
                continue
            start = self.initial_choices[name]
            value = start + (target - start) * times / total
            result[name] = int(round(value)) if isinstance(target, int) \
                else value
        return result

    def prune_step(self, times: int) -> None:
        """Apply pruning step ``times``: set every target unit's choice."""
        units = self.units_by_name
        for name, choice in self.choices_at(times).items():
            units[name].current_choice = choice
        self.num_prunes = times
        print_log(
            f'{type(self).__name__}: pruning step {times}/'
            f'{self.prune_times} at iteration {self.num_steps}',
            logger='current')

    # ------------------------------------------------------------ training
    def _resolve_freq(self) -> int:
        """``step_freq`` in iterations (epochs converted with the runner's
        iterations per epoch)."""
        hub = MessageHub.get_current_instance()
        max_epochs = hub.get_info('max_epochs')
        by_epoch = self.by_epoch
        if by_epoch is None:
            by_epoch = max_epochs is not None and max_epochs != 1
        if not by_epoch:
            return self.step_freq
        max_iters = hub.get_info('max_iters')
        if not max_epochs or not max_iters:
            raise RuntimeError(
                f'{type(self).__name__}: by_epoch=True needs the runner\'s '
                '`max_epochs` and `max_iters` (an epoch-based train loop); '
                'set by_epoch=False to count step_freq in iterations')
        return self.step_freq * max(1, max_iters // max_epochs)

    def before_train_step(self) -> None:
        """Prune if this iteration starts a step; count the iteration."""
        if self._freq_iters is None:
            self._freq_iters = self._resolve_freq()
        freq = self._freq_iters
        if self.num_steps % freq == 0 and self.prune_times is not None and \
                self.num_steps // freq < self.prune_times:
            self.prune_step(self.num_steps // freq + 1)
        self.num_steps += 1

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """Run the pruning schedule (in training), then the losses."""
        if self.training:
            self.before_train_step()
        return super().loss(inputs, data_samples)

    # --------------------------------------------------------- checkpoints
    def get_extra_state(self) -> Dict[str, Any]:
        """Structure and counters, saved in the state dict."""
        return dict(
            structure=structure_state(self.mutator),
            num_steps=self.num_steps,
            num_prunes=self.num_prunes)

    def set_extra_state(self, state: Dict[str, Any]) -> None:
        """Restore :meth:`get_extra_state` (when a checkpoint loads)."""
        load_structure_state(self.mutator, state.get('structure', {}))
        self.num_steps = int(state.get('num_steps', 0))
        self.num_prunes = int(state.get('num_prunes', 0))
