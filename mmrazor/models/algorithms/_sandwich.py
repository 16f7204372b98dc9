# Copyright (c) OpenMMLab. All rights reserved.
"""The sandwich rule with in-place distillation, shared by weight-sharing
supernet algorithms (AutoSlim, BigNAS)."""
from typing import Any, Callable, Dict, List, Optional

import torch
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODELS, in_mmrazor_scope


def add_prefix(losses: Dict[str, Any], prefix: str) -> Dict[str, Any]:
    """``{prefix.key: value}``."""
    return {f'{prefix}.{k}': v for k, v in losses.items()}


def build_inplace_distiller(cfg: Any, architecture: torch.nn.Module):
    """Build a distiller whose teacher and student are ``architecture``.

    The teacher records (the largest subnet's outputs) are detached, so
    in-place distillation trains the smaller subnets only.
    """
    distiller = MODELS.build(in_mmrazor_scope(cfg)) if isinstance(
        cfg, dict) else cfg
    distiller.detach_teacher_records = True
    distiller.prepare_from_teacher(architecture)
    distiller.prepare_from_student(architecture)
    return distiller


def sandwich_losses(architecture: torch.nn.Module,
                    mutator: Any,
                    distiller: Any,
                    inputs: torch.Tensor,
                    data_samples: Optional[List[BaseDataElement]],
                    num_random: int,
                    on_subnet: Optional[Callable[[str], None]] = None
                    ) -> Dict[str, torch.Tensor]:
    """Losses of the largest, ``num_random`` random and the smallest subnet.

    The largest subnet learns from the labels and its outputs are recorded
    as the teacher's; every other subnet learns from those outputs only
    (in-place distillation). All losses are returned together, so one
    backward pass accumulates the gradients of every subnet before the one
    optimizer step of the iteration (the sandwich rule of Yu & Huang,
    "Universally Slimmable Networks and Improved Training Techniques",
    ICCV 2019). Running all subnets in one ``forward`` keeps mmengine's own
    DDP wrapper usable; it holds the activations of ``num_random + 2``
    subnets at once.

    ``on_subnet(kind)``, when given, runs after each subnet is set and
    before its forward, with ``kind`` one of ``'max'``, ``'random'`` and
    ``'min'`` (BigNAS turns stochastic depth on for the largest only). The
    largest subnet is set again at the end.

    Returns:
        dict: ``max_subnet.*``, ``random_subnet_{i}.*`` and
        ``min_subnet.*`` losses.
    """
    losses: Dict[str, torch.Tensor] = {}
    mutator.set_choices(mutator.sample_choices('max'))
    if on_subnet is not None:
        on_subnet('max')
    with distiller.teacher_recorders:
        max_losses = architecture(inputs, data_samples, mode='loss')
    losses.update(add_prefix(max_losses, 'max_subnet'))
    plan = [(f'random_subnet_{i}', 'random') for i in range(num_random)]
    plan.append(('min_subnet', 'min'))
    for prefix, kind in plan:
        mutator.set_choices(mutator.sample_choices(kind))
        if on_subnet is not None:
            on_subnet(kind)
        with distiller.student_recorders:
            architecture(inputs, data_samples, mode='tensor')
        losses.update(add_prefix(distiller.compute_distill_losses(),
                                 prefix))
        distiller.student_recorders.reset_data()
    distiller.teacher_recorders.reset_data()
    mutator.set_choices(mutator.sample_choices('max'))
    return losses
