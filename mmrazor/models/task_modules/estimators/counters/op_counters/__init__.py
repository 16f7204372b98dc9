# Copyright (c) OpenMMLab. All rights reserved.
"""Counters of the torch modules the original MMRazor counted, registered
in ``TASK_UTILS`` under their original names.

FLOPs are multiply-accumulates as in mmcv's ``get_model_complexity_info``:
a convolution counts its MACs plus one per output element with a bias, a
linear layer ``input numel * out_features``, a norm layer its input numel
(twice with an affine transform), an activation or an upsampling its output
numel, a pooling layer its input numel.
"""
import math
from typing import Any, Tuple

import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from ..base_counter import BaseCounter, own_params


def _numel(x: Any) -> int:
    return x.numel() if hasattr(x, 'numel') else 0


class ConvNdCounter(BaseCounter):
    """Convolutions: MACs of the kernel over the output, plus the bias."""

    @staticmethod
    def add_count_hook(module: nn.Module, input: Tuple[Any, ...],
                       output: Any) -> None:
        weight = module.weight
        kernel = math.prod(weight.shape[2:])
        # weight: (out, in / groups, *kernel)
        per_output = kernel * weight.shape[1]
        flops = output.numel() * per_output
        if module.bias is not None:
            flops += output.numel()
        module.__flops__ += int(flops)
        module.__params__ += own_params(module)


class DeconvNdCounter(BaseCounter):
    """Transposed convolutions, counted over the input (as mmcv)."""

    @staticmethod
    def add_count_hook(module: nn.Module, input: Tuple[Any, ...],
                       output: Any) -> None:
        x = input[0]
        weight = module.weight  # (in, out / groups, *kernel)
        spatial = x.shape[0] * math.prod(x.shape[2:])
        flops = spatial * weight.shape[0] * math.prod(weight.shape[1:])
        if module.bias is not None:
            flops += spatial * module.out_channels
        module.__flops__ += int(flops)
        module.__params__ += own_params(module)


@TASK_UTILS.register_module()
class LinearCounter(BaseCounter):
    """``nn.Linear``: ``input numel * out_features`` (no bias term)."""

    @staticmethod
    def add_count_hook(module: nn.Module, input: Tuple[Any, ...],
                       output: Any) -> None:
        module.__flops__ += int(_numel(input[0]) * output.shape[-1])
        module.__params__ += own_params(module)


class NormCounter(BaseCounter):
    """Norm layers: the input numel, twice with an affine transform."""

    @staticmethod
    def add_count_hook(module: nn.Module, input: Tuple[Any, ...],
                       output: Any) -> None:
        affine = getattr(module, 'affine', False) or getattr(
            module, 'elementwise_affine', False)
        module.__flops__ += _numel(input[0]) * (2 if affine else 1)
        module.__params__ += own_params(module)


class ActivationCounter(BaseCounter):
    """Activations and upsampling: the output numel."""

    @staticmethod
    def add_count_hook(module: nn.Module, input: Tuple[Any, ...],
                       output: Any) -> None:
        module.__flops__ += _numel(output)
        module.__params__ += own_params(module)


class PoolingCounter(BaseCounter):
    """Pooling: the input numel."""

    @staticmethod
    def add_count_hook(module: nn.Module, input: Tuple[Any, ...],
                       output: Any) -> None:
        module.__flops__ += _numel(input[0])
        module.__params__ += own_params(module)


class DynamicOpCounter(BaseCounter):
    """A dynamic op, counted as its static export at the current sub-shape
    (the counter of the static type does the count)."""

    @staticmethod
    def add_count_hook(module: nn.Module, input: Tuple[Any, ...],
                       output: Any) -> None:
        static = module.to_static_op()
        counter = TASK_UTILS.get(f'{type(static).__name__}Counter')
        static.__flops__ = static.__params__ = 0
        counter.add_count_hook(static, input, output)
        module.__flops__ += static.__flops__
        module.__params__ += static.__params__


def _register(base: type, *names: str) -> dict:
    """Register one subclass of ``base`` per name; return them by name."""
    made = {}
    for name in names:
        cls = type(name, (base, ), {
            '__doc__': f'Counter of ``{name[:-len("Counter")]}``; see '
                       f':class:`{base.__name__}`.',
            '__module__': __name__,
        })
        TASK_UTILS.register_module(module=cls)
        made[name] = cls
    return made


_COUNTERS = {
    **_register(ConvNdCounter, 'Conv1dCounter', 'Conv2dCounter',
                'Conv3dCounter'),
    **_register(DeconvNdCounter, 'ConvTranspose2dCounter'),
    **_register(NormCounter, 'BatchNorm1dCounter', 'BatchNorm2dCounter',
                'BatchNorm3dCounter', 'SyncBatchNormCounter',
                'GroupNormCounter', 'InstanceNorm1dCounter',
                'InstanceNorm2dCounter', 'InstanceNorm3dCounter',
                'LayerNormCounter'),
    **_register(ActivationCounter, 'ReLUCounter', 'PReLUCounter',
                'ELUCounter', 'LeakyReLUCounter', 'ReLU6Counter',
                'UpsampleCounter'),
    **_register(PoolingCounter, 'MaxPool1dCounter', 'MaxPool2dCounter',
                'MaxPool3dCounter', 'AvgPool1dCounter', 'AvgPool2dCounter',
                'AvgPool3dCounter', 'AdaptiveMaxPool1dCounter',
                'AdaptiveMaxPool2dCounter', 'AdaptiveMaxPool3dCounter',
                'AdaptiveAvgPool1dCounter', 'AdaptiveAvgPool2dCounter',
                'AdaptiveAvgPool3dCounter'),
    **_register(DynamicOpCounter, 'DynamicConv2dCounter',
                'DynamicLinearCounter', 'BigNasConv2dCounter',
                'OFAConv2dCounter', 'DynamicBatchNorm2dCounter',
                'DynamicBatchNorm1dCounter', 'DynamicLayerNormCounter'),
}
globals().update(_COUNTERS)

__all__ = ['BaseCounter', 'ConvNdCounter', 'DeconvNdCounter', 'LinearCounter',
           'NormCounter', 'ActivationCounter', 'PoolingCounter',
           'DynamicOpCounter'] + sorted(_COUNTERS)
