# Copyright (c) OpenMMLab. All rights reserved.
"""Small helpers the original MMRazor exported from ``mmrazor.models.utils``.
"""
import importlib
from typing import Any, Dict, List, Sequence, Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger

from mmrazor.utils.channels import make_divisible  # noqa: F401

# modules whose classes ``str2class`` may import (it names qconfig types)
STR2CLASS_SOURCES = ('torch.', 'torchao.', 'mmrazor.')


def add_prefix(inputs: Dict[str, Any], prefix: str) -> Dict[str, Any]:
    """``{f'{prefix}.{key}': value}`` for each item of ``inputs``."""
    return {f'{prefix}.{name}': value for name, value in inputs.items()}


def get_module_device(module: nn.Module) -> torch.device:
    """The device of the module's first parameter.

    Raises:
        ValueError: The module has no parameters.
    """
    param = next(module.parameters(), None)
    if param is None:
        raise ValueError(f'{type(module).__name__} has no parameters, so it '
                         'has no device')
    return param.device


def set_requires_grad(nets: Union[nn.Module, List[nn.Module]],
                      requires_grad: bool = False) -> None:
    """Set ``requires_grad`` of every parameter of one or more networks
    (None entries are skipped)."""
    for net in nets if isinstance(nets, (list, tuple)) else [nets]:
        if net is not None:
            for param in net.parameters():
                param.requires_grad = requires_grad


def parse_values(candidate_lists: Sequence[Sequence[int]]) -> List[List[int]]:
    """``[[start, end, step], ...]`` to the lists of values from ``start``
    to ``end`` (inclusive) by ``step``, as search-space configs write them.
    """
    values = []
    for spec in candidate_lists:
        if len(spec) != 3:
            raise ValueError('parse_values: each entry must be (start, end, '
                             f'step), but got {spec!r}')
        start, end, step = spec
        values.append(list(range(start, end + 1, step)))
    return values


def str2class(str_inputs: Union[str, List[str], tuple]) -> Any:
    """Import the classes named ``'package.module.Class'`` (one name, a list
    or a tuple; the result has the same form).

    Only classes under ``torch``, ``torchao`` and ``mmrazor`` are imported.
    """
    names = [str_inputs] if isinstance(str_inputs, str) else list(str_inputs)
    classes = []
    for name in names:
        if not name.startswith(STR2CLASS_SOURCES):
            raise ValueError(f'str2class imports classes under '
                             f'{STR2CLASS_SOURCES} only, not {name!r}')
        module_name, _, cls_name = name.rpartition('.')
        cls = getattr(importlib.import_module(module_name), cls_name, None)
        if not isinstance(cls, type):
            raise TypeError(f'{name!r} is not a class')
        classes.append(cls)
    if isinstance(str_inputs, str):
        return classes[0]
    return tuple(classes) if isinstance(str_inputs, tuple) else classes


def reinitialize_optim_wrapper_count_status(model: nn.Module,
                                            optim_wrapper: Any,
                                            accumulative_counts: int,
                                            verbose: bool = True) -> None:
    """Restart the gradient-accumulation counters of ``optim_wrapper`` for
    a loop that runs ``accumulative_counts`` updates per iteration (the
    runner's current and maximum iterations are scaled)."""
    info = optim_wrapper.message_hub.runtime_info
    init_counts = info['iter'] * accumulative_counts
    max_counts = info['max_iters'] * accumulative_counts
    if verbose:
        MMLogger.get_current_instance().info(
            f'optim wrapper counts restarted: init {init_counts}, max '
            f'{max_counts} ({accumulative_counts} updates per iteration)')
    optim_wrapper.initialize_count_status(
        model=model, init_counts=init_counts, max_counts=max_counts)
