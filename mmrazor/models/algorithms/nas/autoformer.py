# Copyright (c) OpenMMLab. All rights reserved.
"""Autoformer: one-shot search of vision transformers with entangled
weights."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODELS, in_mmrazor_scope

from ...mutators import NasMutator
from .._sandwich import build_inplace_distiller, sandwich_losses
from ..base import BaseAlgorithm, LossResults, build_component
from .bignas import _DEFAULT_DISTILLER


@MODELS.register_module()
class Autoformer(BaseAlgorithm):
    """Autoformer: train a vision transformer supernet whose subnets share
    (entangle) their weights, then search it.

    Chen et al., "AutoFormer: Searching Transformers for Visual
    Recognition", ICCV 2021 (https://arxiv.org/abs/2107.00651).

    By default each training step is the paper's: one subnet drawn
    uniformly from the space (``AutoformerBackbone``'s embedding dim,
    depth, heads and MLP ratio of every layer) learns from the labels, as
    MMRazor 1.0 trains it. With ``sandwich=True`` the step is instead the
    sandwich rule BigNAS uses, through the same shared step
    (:func:`~mmrazor.models.algorithms._sandwich.sandwich_losses`): the
    largest subnet learns from the labels, then ``num_random_samples``
    random subnets and the smallest learn from its logits (``distiller``),
    all in one backward pass. Search with ``mmrazor.EvolutionSearchLoop``
    (e.g. under a parameter budget) and retrain or evaluate a subnet with
    ``mmrazor.sub_model``.

    Args:
        architecture (dict | BaseModel): The supernet, e.g. a
            ``SearchableImageClassifier`` with an ``AutoformerBackbone``.
        mutator (dict | NasMutator): The mutator. Defaults to
            ``dict(type='NasMutator')``.
        sandwich (bool): Whether to train with the sandwich rule instead of
            one random subnet per step. Defaults to False.
        num_random_samples (int): Random subnets per sandwich step.
            Defaults to 2.
        distiller (dict, optional): The in-place distiller of the sandwich
            rule. Defaults to None: KL divergence between the outputs of
            ``head.fc``.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
            Defaults to None: the architecture's own.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[NasMutator, Dict] = dict(type='NasMutator'),
                 sandwich: bool = False,
                 num_random_samples: int = 2,
                 distiller: Optional[Dict] = None,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        if isinstance(num_random_samples, bool) or \
                not isinstance(num_random_samples, int) or \
                num_random_samples < 0:
            raise ValueError('Autoformer: `num_random_samples` must be an '
                             f'int >= 0, but got {num_random_samples!r}')
        if mutator is None:  # MMRazor 1.0's default
            mutator = dict(type='NasMutator')
        if isinstance(mutator, dict):
            mutator = in_mmrazor_scope(mutator)
        self.mutator = build_component(mutator, NasMutator, 'mutator',
                                       'Autoformer')
        self.mutator.prepare_from_supernet(self.architecture)
        self.sandwich = bool(sandwich)
        self.num_random_samples = num_random_samples
        self.distiller = build_inplace_distiller(
            _DEFAULT_DISTILLER if distiller is None else distiller,
            self.architecture) if self.sandwich else None

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """The losses of one step (see the class docstring).

        Args:
            inputs (Tensor): The preprocessed batch.
            data_samples (list, optional): Its annotations.

        Returns:
            dict: The sampled subnet's losses or, with ``sandwich``,
            ``max_subnet.*``, ``random_subnet_{i}.*`` and ``min_subnet.*``.
        """
        if self.sandwich:
            return sandwich_losses(self.architecture, self.mutator,
                                   self.distiller, inputs, data_samples,
                                   self.num_random_samples)
        self.mutator.set_choices(self.mutator.sample_choices())
        return self.architecture(inputs, data_samples, mode='loss')
