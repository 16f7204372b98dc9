# Copyright (c) OpenMMLab. All rights reserved.
"""Export of pruned models: the plain smaller model and its structure.

A pruning algorithm (``ItePruneAlgorithm``, ``GroupFisherAlgorithm``,
``DCFF``) trains a full-size model whose layers are dynamic ops that run
only the kept channels. :func:`export_pruned_model` turns it into the plain,
smaller model and its structure ``{unit name: kept channels}``. The
structure rebuilds that smaller model from the original architecture
config (``GroupFisherDeploySubModel``, in
:mod:`mmrazor.models.algorithms.pruning.pruned_sub_models`), into which the
exported weights load: that is how a pruned model is tested, fine-tuned or
deployed.
"""
from typing import Any, Dict, Optional, Tuple, Union

import torch.nn as nn

from .static_model import export_static_model

Structure = Dict[str, Union[int, float]]


def export_pruned_model(
        model: nn.Module,
        mutator: Optional[Any] = None) -> Tuple[nn.Module, Dict[str, int]]:
    """A plain copy of a pruned model, and its structure.

    Args:
        model (nn.Module): A pruning algorithm (its ``architecture`` and
            ``mutator`` are used) or an architecture prepared by a channel
            mutator.
        mutator (ChannelMutator, optional): The mutator of ``model``.
            Defaults to None: ``model.mutator`` if it has one.

    Returns:
        tuple[nn.Module, dict]: The static model (a deep copy in which
        every dynamic op is the plain op of its kept channels, e.g. an mmcls
        ``ImageClassifier``; its outputs equal the pruned model's) and the
        structure: ``{unit name: kept channels}`` when a mutator is known,
        else ``{layer name: output channels}`` of the static model's convs
        and linear layers.
    """
    architecture = getattr(model, 'architecture', model)
    mutator = mutator if mutator is not None else getattr(
        model, 'mutator', None)
    static = export_static_model(architecture)
    if mutator is not None:
        structure = {
            unit.name: int(unit.activated_channels)
            for unit in mutator.units
        }
    else:
        structure = {
            name: getattr(m, 'out_channels', getattr(m, 'out_features', 0))
            for name, m in static.named_modules()
            if isinstance(m, (nn.Conv2d, nn.Linear))
        }
    return static, structure
