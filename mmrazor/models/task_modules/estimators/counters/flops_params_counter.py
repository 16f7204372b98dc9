# Copyright (c) OpenMMLab. All rights reserved.
"""``get_model_flops_params``: the original MMRazor's counting by
per-module counters (see :mod:`.op_counters`).

:class:`~mmrazor.models.task_modules.ResourceEstimator` counts differently
(torch's own FLOP counter for every matrix product, on the meta device);
both give the same figures for convolutional networks (checked on the SPOS
subnet in the tests). This one honours the counters a user registers for
their own modules, as the original did.
"""
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from ..latency_counter import measure_latency
from .base_counter import BaseCounter

UNITS = {'G': 1e9, 'M': 1e6, 'K': 1e3, None: 1}


def counter_of(module: nn.Module,
               disabled: Sequence[str] = ()) -> Optional[BaseCounter]:
    """The counter registered as ``'<type name>Counter'``, or None."""
    name = f'{type(module).__name__}Counter'
    if name in disabled:
        return None
    counter = TASK_UTILS.get(name)
    if isinstance(counter, type) and issubclass(counter, BaseCounter):
        return counter
    return None


def _accumulate(module: nn.Module, counted: Dict[int, Tuple[int, int]]
                ) -> Tuple[int, int]:
    """A counted module's own figures, else the sum of its children's."""
    if id(module) in counted:
        return counted[id(module)]
    flops = params = 0
    for child in module.children():
        f, p = _accumulate(child, counted)
        flops, params = flops + f, params + p
    return flops, params


def _convert(value: float, unit: Optional[str], as_strings: bool,
             precision: int = 3) -> Union[float, str]:
    if unit not in UNITS:
        raise ValueError(f'unit {unit!r} is not one of {list(UNITS)}')
    value = round(value / UNITS[unit], precision)
    return f'{value} {unit or ""}'.strip() if as_strings else value


def get_model_flops_params(model: nn.Module,
                           input_shape: Sequence[int] = (1, 3, 224, 224),
                           disabled_counters: Sequence[str] = (),
                           units: Optional[Dict[str, Optional[str]]] = None,
                           as_strings: bool = False,
                           input_constructor: Optional[Any] = None
                           ) -> Tuple[Union[float, str], Union[float, str]]:
    """FLOPs (per sample) and parameters of one forward of ``model``.

    Every module whose type has a registered counter is counted by it (its
    submodules then are not); other modules sum their children.

    Args:
        model (nn.Module): The model, run in eval mode without gradients.
        input_shape (Sequence[int]): Input shape, batch first. Defaults to
            (1, 3, 224, 224).
        disabled_counters (Sequence[str]): Counter names to leave out, e.g.
            ``['ReLUCounter']``. Defaults to ().
        units (dict, optional): ``dict(flops='M', params='M')``: 'G', 'M',
            'K' or None (raw counts). Defaults to None (raw counts).
        as_strings (bool): Return strings with the unit. Defaults to False.
        input_constructor (callable, optional): ``fn(input_shape)`` giving
            the model's keyword inputs. Defaults to a random tensor.

    Returns:
        tuple: FLOPs and parameters.
    """
    units = units or {}
    counted: Dict[int, Tuple[int, int]] = {}
    handles = []

    def hook(module: nn.Module, input: tuple, output: Any) -> None:
        module.__flops__ = module.__params__ = 0
        counter_of(module, disabled_counters).add_count_hook(
            module, input, output)
        flops, _ = counted.get(id(module), (0, 0))
        counted[id(module)] = (flops + module.__flops__, module.__params__)

    for module in model.modules():
        if counter_of(module, disabled_counters) is not None:
            handles.append(module.register_forward_hook(hook))
    training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            if input_constructor is not None:
                model(**input_constructor(tuple(input_shape)))
            else:
                model(torch.rand(tuple(input_shape), device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(training)
    flops, params = _accumulate(model, counted)
    flops /= input_shape[0]
    return (_convert(flops, units.get('flops'), as_strings),
            _convert(params, units.get('params'), as_strings))


def get_model_latency(model: nn.Module,
                      input_shape: Sequence[int] = (1, 3, 224, 224),
                      unit: str = 'ms',
                      as_strings: bool = False,
                      max_iter: int = 100,
                      num_warmup: int = 5,
                      log_interval: int = 100,
                      repeat_num: int = 1) -> Union[float, str]:
    """Median forward time of ``model`` (mean over ``repeat_num`` runs of
    :func:`~..latency_counter.measure_latency`), in ``unit`` ('ms' or
    's')."""
    if unit not in ('ms', 's'):
        raise ValueError(f"unit {unit!r} is not one of ['ms', 's']")
    runs = [
        measure_latency(model, input_shape, max_iter=max_iter,
                        num_warmup=num_warmup, log_interval=log_interval)
        for _ in range(max(1, repeat_num))
    ]
    latency = sum(runs) / len(runs) * (1e3 if unit == 'ms' else 1)
    latency = round(latency, 3)
    return f'{latency} {unit}' if as_strings else latency
