# Copyright (c) OpenMMLab. All rights reserved.
"""Inference latency of a model: the median wall-clock time of a forward.

Unlike FLOPs, latency needs real tensors: the forward runs on the device of
the model's parameters (the CPU for a CPU model; on CUDA, each timed call
ends with a synchronisation), in eval mode and without gradients, on a
random input. The median is robust to the outliers of a shared machine.
"""
import statistics
import time
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .flops_params_counter import (
    ForwardFn,
    default_forward,
    model_device,
    model_dtype,
)


def measure_latency(model: nn.Module,
                    input_shape: Sequence[int],
                    forward_fn: ForwardFn = default_forward,
                    max_iter: int = 100,
                    num_warmup: int = 5,
                    log_interval: int = 100) -> float:
    """Time ``max_iter`` forwards of ``model`` after ``num_warmup`` untimed
    ones and return the median, in seconds.

    Args:
        model (nn.Module): The model.
        input_shape (Sequence[int]): Shape of the input, batch included.
        forward_fn (Callable): ``forward_fn(model, inputs)`` runs the
            forward. Defaults to :func:`default_forward`.
        max_iter (int): Number of timed forwards (>= 1). Defaults to 100.
        num_warmup (int): Number of untimed forwards first (>= 0). Defaults
            to 5.
        log_interval (int): Log the running median every ``log_interval``
            timed forwards (>= 1). Defaults to 100.

    Returns:
        float: The median latency in seconds.
    """
    for name, value, low in (('max_iter', max_iter, 1),
                             ('num_warmup', num_warmup, 0),
                             ('log_interval', log_interval, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or \
                value < low:
            raise ValueError(f'latency_cfg: `{name}` must be an int >= {low}, '
                             f'but got {value!r}')
    device = model_device(model)
    inputs = torch.rand(
        tuple(input_shape), dtype=model_dtype(model), device=device)
    sync = torch.cuda.synchronize if device.type == 'cuda' else None
    # Modules in training mode, switched to eval for the forward.
    training = [m for m in model.modules() if m.training]
    times = []
    try:
        for module in training:
            module.training = False
        with torch.no_grad():
            for _ in range(num_warmup):
                forward_fn(model, inputs)
            for i in range(max_iter):
                if sync:
                    sync(device)
                start = time.perf_counter()
                forward_fn(model, inputs)
                if sync:
                    sync(device)
                times.append(time.perf_counter() - start)
                if (i + 1) % log_interval == 0:
                    print_log(
                        f'Latency [{i + 1}/{max_iter}]: median '
                        f'{statistics.median(times) * 1e3:.3f} ms',
                        logger='current')
    finally:
        for module in training:
            module.training = True
    return statistics.median(times)
