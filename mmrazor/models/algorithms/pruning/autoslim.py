# Copyright (c) OpenMMLab. All rights reserved.
"""AutoSlim: one-shot search of the channel numbers of a network."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.registry import MODELS, in_mmrazor_scope

from ...mutators import ChannelMutator
from .._sandwich import build_inplace_distiller, sandwich_losses
from ..base import BaseAlgorithm, LossResults, build_component

_DEFAULT_MUTATOR = dict(
    type='OneShotChannelMutator',
    channel_unit_cfg=dict(
        type='OneShotMutableChannelUnit',
        default_args=dict(
            candidate_choices=[i / 12 for i in range(2, 13)],
            choice_mode='ratio')),
    parse_cfg=dict(
        type='ChannelAnalyzer',
        demo_input=(1, 3, 224, 224),
        tracer_type='BackwardTracer'))


@MODELS.register_module()
class AutoSlim(BaseAlgorithm):
    """Train a slimmable supernet of any network, then search its widths.

    Yu & Huang, "AutoSlim: Towards One-Shot Architecture Search for Channel
    Numbers", arXiv 2019 (https://arxiv.org/abs/1903.11728).

    The mutator traces the architecture (a plain mmcls model) into channel
    units and makes its layers dynamic. Each training step follows the
    sandwich rule with in-place distillation: the largest width learns from
    the labels, ``num_samples`` random widths and the smallest learn from
    the largest's outputs (see
    :func:`~mmrazor.models.algorithms._sandwich.sandwich_losses`). A
    greedy search (``AutoSlimGreedySearchLoop``) then slims the trained
    network unit by unit down to FLOPs targets.

    Args:
        architecture (dict | BaseModel): The network, e.g. an mmcls
            ``ImageClassifier`` with a ``MobileNetV2`` backbone.
        mutator (dict | ChannelMutator): Channel mutator; by default
            ``OneShotMutableChannelUnit`` units with widths 2/12 ... 12/12
            found by a ``ChannelAnalyzer``.
        distiller (dict): A ``ConfigurableDistiller`` config whose teacher
            and student recorders name the same layer (e.g. ``head.fc``).
        num_samples (int): Random widths per step. Defaults to 2.
        num_random_samples (int, optional): The original MMRazor's name of
            ``num_samples`` (BigNAS's name); give one of the two. Defaults
            to None.
        bn_training_mode (bool): Keep the batch norms in training mode in
            evaluation too, so that each width is evaluated with the
            statistics of its own batch (the original's way to search
            without recalibration). Defaults to False.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 distiller: Dict,
                 mutator: Union[ChannelMutator, Dict] = _DEFAULT_MUTATOR,
                 num_samples: int = 2,
                 num_random_samples: Optional[int] = None,
                 bn_training_mode: bool = False,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        if num_random_samples is not None:
            if num_samples not in (2, num_random_samples):
                raise ValueError(
                    'AutoSlim: `num_random_samples` is another name of '
                    f'`num_samples`; got both ({num_random_samples!r} and '
                    f'{num_samples!r}): give one')
            num_samples = num_random_samples
        if not isinstance(num_samples, int) or num_samples < 0:
            raise ValueError('AutoSlim: `num_samples` must be an int >= 0, '
                             f'but got {num_samples!r}')
        if isinstance(mutator, dict):
            mutator = in_mmrazor_scope(mutator)
        self.mutator = build_component(mutator, ChannelMutator, 'mutator',
                                       'AutoSlim')
        self.mutator.prepare_from_supernet(self.architecture)
        if not self.mutator.units:
            raise ValueError(
                'AutoSlim: the mutator found no prunable channel unit in the '
                f'architecture; excluded: {self.mutator.excluded[:3]}')
        self.distiller = build_inplace_distiller(distiller,
                                                 self.architecture)
        self.num_samples = num_samples
        self.bn_training_mode = bool(bn_training_mode)

    def train(self, mode: bool = True) -> 'AutoSlim':
        """Set the mode; with ``bn_training_mode`` the batch norms stay in
        training mode."""
        super().train(mode)
        if getattr(self, 'bn_training_mode', False):
            for module in self.architecture.modules():
                if isinstance(module, _BatchNorm):
                    module.train(True)
        return self

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """Sandwich-rule losses of the largest, random and smallest widths.

        The largest width is set again afterwards, so evaluation between
        training steps sees the full network.
        """
        return sandwich_losses(self.architecture, self.mutator,
                               self.distiller, inputs, data_samples,
                               self.num_samples)
