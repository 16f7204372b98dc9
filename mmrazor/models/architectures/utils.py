# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers of MobileNet-style supernets (MMRazor 1.0's module path)."""
from typing import Iterable, Sequence, Type

import torch.nn as nn

from .backbones._elastic_blocks import drop_path_rates


def set_dropout(layers: Iterable[Iterable[nn.Module]],
                module: Type[nn.Module], dropout_stages: Sequence[int],
                drop_path_rate: float) -> None:
    """Give the ``module`` blocks of some stages a drop path rate growing
    with depth.

    The ``i``-th of all ``total`` ``module`` blocks (counted from 0 over
    every stage) gets ``drop_path_rate * i / total`` when its stage (numbered
    from 1) is in ``dropout_stages``; blocks of other stages are left as
    they are. ``AttentiveMobileNetV3.set_drop_path_rate`` applies the same
    rule to its stages.

    Args:
        layers (Iterable): The stages, each an iterable of blocks.
        module (type): The block class that has ``drop_path_rate``.
        dropout_stages (Sequence[int]): Stages to set, numbered from 1.
        drop_path_rate (float): The rate a block past the last would have.

    Raises:
        TypeError: If ``module`` is not a class with a ``drop_path_rate``
            attribute on its blocks.
    """
    stages = [[b for b in layer if isinstance(b, module)] for layer in layers]
    for stage in stages:
        for block in stage:
            if not hasattr(block, 'drop_path_rate'):
                raise TypeError(f'set_dropout: {type(block).__name__} blocks '
                                'have no `drop_path_rate` attribute')
    rates = drop_path_rates([len(s) for s in stages], dropout_stages,
                            drop_path_rate)
    for index, (stage, stage_rates) in enumerate(zip(stages, rates), 1):
        if index in dropout_stages:
            for block, rate in zip(stage, stage_rates):
                block.drop_path_rate = rate
