# Copyright (c) OpenMMLab. All rights reserved.
"""Logs the FLOPs and params of the model after each validation."""
from typing import Dict, Optional

from mmengine.hooks import Hook

from mmrazor.models.task_modules.estimators import build_estimator
from mmrazor.registry import HOOKS
from mmrazor.utils.model_wrappers import unwrap_model


@HOOKS.register_module()
class EstimateResourcesHook(Hook):
    """Estimate the resources of the model (its current subnet) after
    validation and report them with the validation metrics.

    The values are added to the metrics dict (so they reach the logger and
    the visualizer backends) under ``resources/flops`` etc., and to the
    message hub.

    Args:
        interval (int): Estimate every ``interval`` validations. Defaults
            to 1.
        estimator_cfg (dict, optional): ResourceEstimator config. Defaults
            to ``dict(type='mmrazor.ResourceEstimator')``.
    """

    # Before the LoggerHook (BELOW_NORMAL), so that the log line of a
    # validation shows its own resources.
    priority = 'NORMAL'

    def __init__(self,
                 interval: int = 1,
                 estimator_cfg: Optional[Dict] = None) -> None:
        if not isinstance(interval, int) or interval < 1:
            raise ValueError('EstimateResourcesHook: `interval` must be an '
                             f'int >= 1, but got {interval!r}')
        self.interval = interval
        self.estimator = build_estimator(estimator_cfg)
        self._count = 0

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        self._count += 1
        if self._count % self.interval != 0:
            return
        model = unwrap_model(runner.model)
        arch = getattr(model, 'architecture', model)
        resources = self.estimator.estimate(arch)
        for name, value in resources.items():
            key = f'resources/{name}'
            runner.message_hub.update_scalar(f'val/{key}', value)
            if metrics is not None:
                metrics[key] = value
        runner.logger.info('Resources of the validated model: ' + ', '.join(
            f'{k}: {v}' for k, v in resources.items()))
