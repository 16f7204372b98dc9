# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers of MobileNet-style supernets (MMRazor 1.0's module path)."""
from typing import Any, Iterable, Optional, Sequence, Type

import torch.nn as nn

from .backbones._elastic_blocks import (
    drop_path_rates,
    wire_conv_module,
    wire_mb_block,
)
from .ops import MBBlock


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


def mutate_conv_module(conv_module: nn.Module,
                       mutable_in_channels: Optional[Any] = None,
                       mutable_out_channels: Optional[Any] = None,
                       mutable_kernel_size: Optional[Any] = None) -> None:
    """Make an mmcv ``ConvModule`` of dynamic ops follow mutables.

    Its conv follows the given input channels, output channels and kernel
    size; its norm, if any, the output channels. The searchable backbones
    do this themselves when they are built; this is the original MMRazor's
    entry point for a backbone of one's own.

    Args:
        conv_module (ConvModule): A module whose conv (and norm) are
            dynamic ops (e.g. ``BigNasConv2d``, ``DynamicBatchNorm2d``).
        mutable_in_channels: Channel mutable (or derived one) of the input.
        mutable_out_channels: Channel mutable of the output.
        mutable_kernel_size: Value mutable of the kernel sizes.

    Raises:
        TypeError: If a layer that must follow a mutable is not dynamic.
    """
    wire_conv_module(conv_module, type(conv_module).__name__,
                     mutable_in_channels, mutable_out_channels,
                     mutable_kernel_size)


def mutate_mobilenet_layer(mb_layer: MBBlock,
                           mutable_in_channels: Any,
                           mutable_out_channels: Any,
                           mutable_expand_ratio: Any,
                           mutable_kernel_size: Any,
                           fine_grained_mode: bool = False) -> None:
    """Make a dynamic ``MBBlock`` follow the mutables of its stage: the
    hidden width ``round(in_channels * expand_ratio)`` (expand, depthwise
    and SE convs), the depthwise kernel size, the output channels, and a
    projection shortcut when the block has an attentive one.

    Args:
        mb_layer (MBBlock): A block built at its largest shape from dynamic
            ops.
        mutable_in_channels: Channel mutable of the block's input.
        mutable_out_channels: Channel mutable of the block's output.
        mutable_expand_ratio: Value mutable (or number) of the expand
            ratio.
        mutable_kernel_size: Value mutable of the depthwise kernel size.
        fine_grained_mode (bool): Must be False. In the original it gave
            the SE layer a copy of the expand-ratio mutable; here
            ``AttentiveMobileNetV3(fine_grained_mode=True)`` gives every
            block its own mutables instead.

    Raises:
        ValueError: With ``fine_grained_mode=True``.
    """
    if fine_grained_mode:
        raise ValueError(
            'mutate_mobilenet_layer: fine_grained_mode=True is not '
            'supported; build AttentiveMobileNetV3(fine_grained_mode=True) '
            'for per-block mutables')
    # the squeeze rule of mmcls SELayer, with the block's SE arguments
    se_cfg = getattr(mb_layer, 'se_cfg', None) or {}
    se_ratio, se_divisor = se_cfg.get('ratio', 16), se_cfg.get('divisor', 8)
    wire_mb_block(mb_layer, type(mb_layer).__name__, mutable_in_channels,
                  mutable_out_channels, mutable_expand_ratio,
                  mutable_kernel_size, se_ratio, se_divisor)
