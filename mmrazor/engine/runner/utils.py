# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers shared by the search and subnet loops."""
import contextlib
import json
import math
import random
import zlib
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.dist import all_reduce, broadcast_object_list, get_world_size
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader

from mmrazor.utils.model_wrappers import unwrap_model


def candidate_key(choices: Dict[str, Any]) -> str:
    """A stable text key of a subnet ``{group: choice}``."""
    return json.dumps(choices, sort_keys=True)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed python, numpy and torch for a block, then restore their states.

    Used to make the evaluation of a candidate a function of the candidate
    alone (random augmentation in BN calibration), whatever ran before.
    """
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


def candidate_seed(base_seed: int, key: str) -> int:
    """A seed derived from the run's seed and a candidate key."""
    return (base_seed * 1000003 + zlib.crc32(key.encode())) % 2**31


@torch.no_grad()
def calibrate_bn_statistics(model: nn.Module,
                            dataloader: DataLoader,
                            num_samples: int) -> int:
    """Re-estimate the BN running statistics of the current subnet.

    A supernet's running statistics mix every path it trained; before a
    subnet is evaluated they are reset and recomputed as an exact average
    over ``num_samples`` training images, with the model in training mode
    and no gradients. The model's previous train/eval mode is restored.
    Under DDP each rank uses its share of the images and the statistics are
    then averaged over the ranks.

    Args:
        model (nn.Module): An mmengine model (``data_preprocessor`` and
            ``forward(mode='tensor')``), or a wrapper of one.
        dataloader (DataLoader): Batches of training data.
        num_samples (int): Images to use; at least one batch is used.

    Returns:
        int: The number of images actually used.
    """
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    if not norms or num_samples <= 0:
        return 0
    saved = {m: m.momentum for m in norms}
    was_training = model.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: an exact mean
    model.train()
    inner = unwrap_model(model)
    used = 0
    batches = max(1, math.ceil(num_samples / max(1, dataloader.batch_size)))
    try:
        for i, data in enumerate(dataloader):
            if i >= batches:
                break
            data = inner.data_preprocessor(data, True)
            inner(data['inputs'], data.get('data_samples'), mode='tensor')
            used += len(data['inputs'])
    finally:
        for m, momentum in saved.items():
            m.momentum = momentum
        model.train(was_training)
    stats = [t for m in norms for t in (m.running_mean, m.running_var)
             if t is not None]
    if get_world_size() > 1 and stats:
        # Each rank saw its own share of the data: average the statistics,
        # so that every rank evaluates the same subnet (one collective for
        # all of them: a gloo call per tensor cost more than the forward).
        flat = torch.cat([t.reshape(-1).double() for t in stats])
        all_reduce(flat, op='mean')
        offset = 0
        for t in stats:
            t.copy_(flat[offset:offset + t.numel()].view_as(t))
            offset += t.numel()
    return used


def to_json_state(state: Optional[tuple]) -> Optional[list]:
    """``random.Random.getstate()`` as nested lists (JSON friendly)."""
    if state is None:
        return None
    version, internal, gauss = state
    return [version, list(internal), gauss]


def from_json_state(state: list) -> tuple:
    """Inverse of :func:`to_json_state`."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)


def broadcast_list(items: List[Any]) -> List[Any]:
    """Give every rank rank 0's list."""
    holder = [items]
    broadcast_object_list(holder, src=0)
    return holder[0]


def format_resources(resources: Dict[str, float]) -> str:
    """``'flops: 1.55, params: 0.27'``."""
    return ', '.join(f'{k}: {v:.4g}' for k, v in resources.items())


def crossover(random_subnet1: Dict[str, Any],
              random_subnet2: Dict[str, Any],
              prob: float = 0.5) -> Dict[str, Any]:
    """A child of two subnets (MMRazor 1.0's helper of the same name).

    Each choice comes from ``random_subnet2`` with probability ``prob``
    (Python's ``random``), else from ``random_subnet1``.

    Args:
        random_subnet1 (dict): ``{group key: choice}`` of the first parent.
        random_subnet2 (dict): The second parent, with the same keys.
        prob (float): Probability of taking the second parent's choice.
            Defaults to 0.5.

    Returns:
        dict: The child.

    Raises:
        KeyError: If the parents do not have the same keys.
        ValueError: If ``prob`` is not in [0, 1].
    """
    if set(random_subnet1) != set(random_subnet2):
        diff = sorted(set(random_subnet1) ^ set(random_subnet2))
        raise KeyError(f'crossover needs parents with the same keys; only '
                       f'one of them has {diff[:5]}')
    if not 0 <= prob <= 1:
        raise ValueError(f'crossover: `prob` must be in [0, 1], got {prob}')
    return {
        key: random_subnet2[key] if random.random() < prob else choice
        for key, choice in random_subnet1.items()
    }


def check_subnet_resources(
    model: nn.Module,
    subnet: Dict[str, Any],
    estimator: Any,
    constraints_range: Optional[Dict[str, Any]] = None,
    export: bool = True,
) -> Tuple[bool, Dict[str, float]]:
    """Whether a subnet's resources are within ``constraints_range``
    (MMRazor 1.0's helper of the same name).

    The subnet is set on ``model.mutator``; the architecture (exported to a
    static model when ``export``, so only the subnet's modules are counted)
    is measured by ``estimator.estimate``. The mutator keeps the subnet.

    Args:
        model (nn.Module): An algorithm with ``mutator`` and
            ``architecture`` (wrappers are unwrapped).
        subnet (dict): ``{group key: choice}`` for ``model.mutator``.
        estimator: An estimator with ``estimate(model)`` returning
            ``{resource: value}`` (e.g. ``ResourceEstimator``).
        constraints_range (dict, optional): ``{resource: (min, max)}``; None
            or empty accepts every subnet without measuring it. Defaults to
            None.
        export (bool): Whether to measure the static export. Defaults to
            True.

    Returns:
        tuple: Whether every constrained resource is within its range, and
        the measured ``{resource: value}`` (empty when nothing is
        constrained).

    Raises:
        KeyError: If a constrained resource is not one the estimator gives.
    """
    if not constraints_range:
        return True, {}
    from mmrazor.models.utils import export_static_model
    model = unwrap_model(model)
    model.mutator.set_choices(subnet)
    architecture = model.architecture
    if export:
        architecture = export_static_model(architecture)
    results = estimator.estimate(architecture)
    unknown = sorted(set(constraints_range) - set(results))
    if unknown:
        raise KeyError(f'check_subnet_resources: constraints_range names '
                       f'{unknown}, but the estimator gives {sorted(results)}')
    within = all(low <= results[key] <= high
                 for key, (low, high) in constraints_range.items())
    return within, results


class CalibrateBNMixin:
    """MMRazor 1.0's mixin of loops that recalibrate batch norm.

    A loop class that mixes it in (and has ``self.runner``) gets
    ``calibrate_bn_statistics``, which runs
    :func:`calibrate_bn_statistics` on the runner's model (or ``model``).
    """

    runner: Any

    def calibrate_bn_statistics(self,
                                dataloader: DataLoader,
                                calibrate_sample_num: int = 2000,
                                model: Optional[nn.Module] = None) -> int:
        """Recompute the BN running statistics from
        ``calibrate_sample_num`` images of ``dataloader``; returns the
        number used."""
        model = self.runner.model if model is None else model
        return calibrate_bn_statistics(model, dataloader,
                                       calibrate_sample_num)
