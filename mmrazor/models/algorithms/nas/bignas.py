# Copyright (c) OpenMMLab. All rights reserved.
"""BigNAS: train every subnet of a supernet at once, search without
retraining."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODEL_WRAPPERS, MODELS, in_mmrazor_scope

from ...mutators import NasMutator
from .._sandwich import build_inplace_distiller, sandwich_losses
from ..base import BaseAlgorithm, LossResults, build_component

# The in-place distillation of the original MMRazor configs: the KL
# divergence between the logits of a subnet and those of the largest one.
_DEFAULT_DISTILLER = dict(
    type='ConfigurableDistiller',
    teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    distill_losses=dict(
        loss_kl=dict(type='KLDivergence', tau=1, loss_weight=1)),
    loss_forward_mappings=dict(
        loss_kl=dict(
            preds_S=dict(recorder='fc', from_student=True),
            preds_T=dict(recorder='fc', from_student=False))))

# Configs of the original MMRazor name this wrapper; mmengine's own DDP
# wrapper runs BigNAS as it is (all subnets of a step are one forward).
MODEL_WRAPPERS.register_module(
    name='BigNASDDP', module=MMDistributedDataParallel)


@MODELS.register_module()
class BigNAS(BaseAlgorithm):
    """BigNAS: a supernet whose subnets all work without retraining.

    Yu et al., "BigNAS: Scaling Up Neural Architecture Search with Big
    Single-Stage Models", ECCV 2020 (https://arxiv.org/abs/2003.11142).

    Each training step follows the sandwich rule with in-place
    distillation:

    1. the largest subnet (every mutable at its largest choice, the input at
       its largest size) learns from the labels, with stochastic depth
       (``drop_path_rate``) in the stages ``backbone_dropout_stages``; its
       logits, recorded by the distiller's teacher recorders, become the
       teacher's (detached);
    2. ``num_random_samples`` random subnets, then the smallest, learn from
       those logits only (``distiller`` losses), without stochastic depth.

    All the losses are returned together, so mmengine's
    ``BaseModel.train_step`` runs one backward over their sum and one
    optimizer step: the gradients of the subnets add up, as the paper
    aggregates them (and as the AttentiveNAS code does, one ``backward`` per
    subnet and one step). The learning rate therefore applies to the sum;
    the original MMRazor averaged the subnets' gradients instead (a factor
    ``num_random_samples + 2`` apart). The step holds the activations of all
    ``num_random_samples + 2`` subnets at once: lower the batch size or
    ``num_random_samples`` if memory is short. Being a single forward,
    the step runs under mmengine's ``MMDistributedDataParallel`` (with
    ``find_unused_parameters=True``: the smaller subnets leave weights
    unused); ``'BigNASDDP'`` is registered as an alias of it.

    Logged losses: ``max_subnet.loss`` (and the head's other losses),
    ``random_subnet_{i}.loss_kl`` and ``min_subnet.loss_kl``. After a step
    the largest subnet is set. Evaluation runs the current subnet: validate
    with ``mmrazor.SubnetValLoop`` (e.g. ``subnets=('max', 'min')`` and BN
    recalibration), and search with ``mmrazor.EvolutionSearchLoop``.

    Args:
        architecture (dict | BaseModel): The supernet, e.g. a
            ``SearchableImageClassifier`` with an ``AttentiveMobileNetV3``.
        mutator (dict | NasMutator): The mutator. Defaults to
            ``dict(type='NasMutator')``.
        distiller (dict, optional): A ``ConfigurableDistiller`` config whose
            teacher and student recorders record the same layer of the
            architecture. Defaults to None: KL divergence between the
            outputs of ``head.fc``.
        num_random_samples (int): Random subnets per step. Defaults to 2.
        drop_path_rate (float): Stochastic depth rate of the largest subnet.
            Defaults to 0.2.
        backbone_dropout_stages (Sequence[int]): Backbone stages (numbered
            from 1) with stochastic depth; the backbone must have
            ``set_drop_path_rate(rate, stages)`` when the rate is not 0.
            Defaults to ``(6, 7)``.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
            Defaults to None: the architecture's own.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
        mutators (dict | NasMutator, optional): Another name of
            ``mutator``, which MMRazor 1.0's Once-for-All supernet config
            uses (it did not build there). Defaults to None.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[NasMutator, Dict] = dict(type='NasMutator'),
                 distiller: Optional[Dict] = None,
                 num_random_samples: int = 2,
                 drop_path_rate: float = 0.2,
                 backbone_dropout_stages: Sequence[int] = (6, 7),
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None,
                 mutators: Optional[Union[NasMutator, Dict]] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        if mutators is not None:
            mutator = mutators
        if not isinstance(num_random_samples, int) or num_random_samples < 0:
            raise ValueError('BigNAS: `num_random_samples` must be an int >= '
                             f'0, but got {num_random_samples!r}')
        if not isinstance(drop_path_rate, (int, float)) or \
                not 0 <= drop_path_rate < 1:
            raise ValueError('BigNAS: `drop_path_rate` must be in [0, 1), '
                             f'but got {drop_path_rate!r}')
        if isinstance(mutator, dict):
            mutator = in_mmrazor_scope(mutator)
        self.mutator = build_component(mutator, NasMutator, 'mutator',
                                       'BigNAS')
        self.mutator.prepare_from_supernet(self.architecture)
        self.distiller = build_inplace_distiller(
            _DEFAULT_DISTILLER if distiller is None else distiller,
            self.architecture)
        self.num_random_samples = num_random_samples
        self.drop_path_rate = float(drop_path_rate)
        self.backbone_dropout_stages = tuple(backbone_dropout_stages)
        backbone = getattr(self.architecture, 'backbone', None)
        if self.drop_path_rate > 0 and \
                not hasattr(backbone, 'set_drop_path_rate'):
            raise ValueError(
                f'BigNAS: drop_path_rate={drop_path_rate} needs a backbone '
                'with `set_drop_path_rate(rate, stages)` (such as '
                f'AttentiveMobileNetV3), but the backbone is a '
                f'{type(backbone).__name__}; set drop_path_rate=0')

    def _set_drop_path(self, rate: float) -> None:
        if self.drop_path_rate > 0:
            self.architecture.backbone.set_drop_path_rate(
                rate, self.backbone_dropout_stages)

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """The sandwich-rule losses of one step (see the class docstring).

        Args:
            inputs (Tensor): The preprocessed batch.
            data_samples (list, optional): Its annotations.

        Returns:
            dict: ``max_subnet.*``, ``random_subnet_{i}.*`` and
            ``min_subnet.*`` losses.
        """
        def on_subnet(kind: str) -> None:
            self._set_drop_path(self.drop_path_rate if kind == 'max' else 0.)

        try:
            return sandwich_losses(self.architecture, self.mutator,
                                   self.distiller, inputs, data_samples,
                                   self.num_random_samples, on_subnet)
        finally:
            self._set_drop_path(0.)
