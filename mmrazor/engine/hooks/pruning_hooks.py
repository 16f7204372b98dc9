# Copyright (c) OpenMMLab. All rights reserved.
"""Hooks of pruning runs: log the structure, follow the resources and keep
a checkpoint at each resource threshold.

They carry the original MMRazor's names and arguments, which its Group
Fisher prune configs use (``custom_hooks``).
"""
import json
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.dist import master_only
from mmengine.hooks import Hook

from mmrazor.registry import HOOKS
from mmrazor.utils.model_wrappers import unwrap_model

RESOURCE_TYPES = ('flops', 'params')
# the original's ``demo_input`` types: a config holding an ``input_shape``
DEMO_INPUT_TYPES = ('DefaultDemoInput', 'mmrazor.DefaultDemoInput')


def _structure(runner) -> Optional[Dict[str, int]]:
    """``{unit name: active channels}`` of the runner's pruning algorithm,
    or None for a model that is not one."""
    model = unwrap_model(runner.model)
    if hasattr(model, 'pruning_structure'):
        return model.pruning_structure
    mutator = getattr(model, 'mutator', None)
    if mutator is None or not hasattr(mutator, 'units'):
        return None
    return {u.name: int(u.activated_channels) for u in mutator.units}


@HOOKS.register_module()
class PruningStructureHook(Hook):
    """Log the pruning structure ``{unit name: active channels}`` of the
    model, every ``interval`` epochs (or iterations).

    Args:
        by_epoch (bool): Whether ``interval`` counts epochs. Defaults to
            True.
        interval (int): Epochs (or iterations) between two logs. Defaults
            to 1.
    """

    def __init__(self, by_epoch: bool = True, interval: int = 1) -> None:
        if isinstance(interval, bool) or not isinstance(interval, int) or \
                interval < 1:
            raise ValueError('PruningStructureHook: `interval` must be an '
                             f'int >= 1, but got {interval!r}')
        self.by_epoch = by_epoch
        self.interval = interval

    @master_only
    def _log(self, runner) -> None:
        structure = _structure(runner)
        if structure is not None:
            runner.logger.info('Pruning structure: ' +
                               json.dumps(structure))

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and self.every_n_epochs(runner, self.interval):
            self._log(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Any = None,
                         outputs: Any = None) -> None:
        if not self.by_epoch and self.every_n_train_iters(
                runner, self.interval):
            self._log(runner)


def _input_shape(demo_input: Union[None, Dict, Sequence[int]]
                 ) -> Tuple[int, ...]:
    """The input shape of the original's ``demo_input`` argument."""
    if demo_input is None:
        return (1, 3, 224, 224)
    if isinstance(demo_input, dict):
        if demo_input.get('type', DEMO_INPUT_TYPES[0]) not in \
                DEMO_INPUT_TYPES or 'input_shape' not in demo_input:
            raise ValueError(
                'ResourceInfoHook: `demo_input` must be an input shape or '
                "dict(type='mmrazor.DefaultDemoInput', input_shape=...), "
                f'but got {demo_input!r}')
        demo_input = demo_input['input_shape']
    shape = tuple(demo_input)
    if len(shape) != 4 or not all(isinstance(d, int) and d > 0
                                  for d in shape):
        raise ValueError('ResourceInfoHook: the input shape must be '
                         f'(N, C, H, W) positive ints, but got {shape!r}')
    return shape


@HOOKS.register_module()
class ResourceInfoHook(Hook):
    """Follow the FLOPs (or params) of a model being pruned; save a
    checkpoint the first time they fall below each threshold.

    Before the run the resource of the unpruned model is counted. Every
    ``interval`` training iterations it is counted again and logged as a
    share of the original; when the share falls below the largest
    threshold left in ``save_ckpt_thr``, a checkpoint named
    ``{resource_type}_{threshold:.2f}.pth`` is written to the work dir
    (a full runner checkpoint: the pruning structure is in it, so
    ``GroupFisherSubModel`` fine-tunes from it). With ``early_stop`` the
    training stops once every threshold has its checkpoint (the loop's
    ``stop_training``; the original ended the process).

    Args:
        demo_input (dict | Sequence[int], optional): The input shape
            ``(N, C, H, W)`` of the count, or the original's
            ``dict(type='mmrazor.DefaultDemoInput', input_shape=...)``.
            Defaults to None: ``(1, 3, 224, 224)``.
        interval (int): Iterations between two counts. Defaults to 10.
        resource_type (str): ``'flops'`` or ``'params'``. Defaults to
            'flops'.
        save_ckpt_thr (Sequence[float]): Shares of the original resource
            below which a checkpoint is saved. Defaults to (0.5, ).
        early_stop (bool): Stop training once every threshold is passed.
            Defaults to True.
    """

    def __init__(self,
                 demo_input: Union[None, Dict, Sequence[int]] = None,
                 interval: int = 10,
                 resource_type: str = 'flops',
                 save_ckpt_thr: Sequence[float] = (0.5, ),
                 early_stop: bool = True) -> None:
        from mmrazor.models.task_modules.estimators import ResourceEstimator
        if isinstance(interval, bool) or not isinstance(interval, int) or \
                interval < 1:
            raise ValueError('ResourceInfoHook: `interval` must be an int '
                             f'>= 1, but got {interval!r}')
        if resource_type not in RESOURCE_TYPES:
            raise ValueError('ResourceInfoHook: `resource_type` must be one '
                             f'of {list(RESOURCE_TYPES)}, but got '
                             f'{resource_type!r}')
        thresholds = list(save_ckpt_thr)
        if not all(isinstance(t, (int, float)) and 0 < t <= 1
                   for t in thresholds):
            raise ValueError('ResourceInfoHook: `save_ckpt_thr` must hold '
                             f'shares in (0, 1], but got {save_ckpt_thr!r}')
        self.interval = interval
        self.resource_type = resource_type
        self.thresholds = sorted(thresholds, reverse=True)
        self.early_stop = early_stop
        # A real forward: mask buffers shared by several layers do not
        # survive a meta-device count.
        self.estimator = ResourceEstimator(
            input_shape=_input_shape(demo_input),
            units=dict(flops=None, params=None),
            flops_params_cfg=dict(use_meta=False))
        self.original: Optional[float] = None

    def _count(self, runner) -> float:
        model = unwrap_model(runner.model)
        arch: nn.Module = getattr(model, 'architecture', model)
        training = arch.training
        try:
            return float(self.estimator.estimate(arch)[self.resource_type])
        finally:
            arch.train(training)

    def before_train(self, runner) -> None:
        self.original = self._count(runner)
        runner.logger.info(
            f'ResourceInfoHook: {self.resource_type} of the model before '
            f'pruning: {self.original:.6g}')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Any = None,
                         outputs: Any = None) -> None:
        if not self.thresholds or not self.every_n_train_iters(
                runner, self.interval):
            return
        share = self._count(runner) / self.original
        runner.logger.info(f'ResourceInfoHook: {self.resource_type} at '
                           f'{share:.4f} of the original')
        if share < self.thresholds[0]:
            threshold = self.thresholds.pop(0)
            name = f'{self.resource_type}_{threshold:.2f}.pth'
            runner.save_checkpoint(
                runner.work_dir, name, save_optimizer=False,
                save_param_scheduler=False)
            runner.logger.info(f'ResourceInfoHook: {self.resource_type} '
                               f'below {threshold} of the original: saved '
                               f'{name}')
        if self.early_stop and not self.thresholds:
            runner.train_loop.stop_training = True
