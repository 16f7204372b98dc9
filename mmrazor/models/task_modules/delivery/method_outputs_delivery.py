# Copyright (c) OpenMMLab. All rights reserved.
"""Deliver a method's outputs from teacher to student."""
from mmrazor.registry import TASK_UTILS

from .distill_delivery import DistillDelivery


@TASK_UTILS.register_module()
class MethodOutputsDelivery(DistillDelivery):
    """Replay the outputs of a method (see :class:`DistillDelivery`).

    The class is patched, so calls on every instance are recorded or
    replayed while the delivery is active, e.g.
    ``'mmdet.models.task_modules.AnchorGenerator.grid_priors'``.

    Args:
        max_keep_data (int): Capacity of the queue: at least the number of
            calls in one teacher forward.
        method_path (str): ``'package.module.Class.method'``.
    """

    path_field = 'method_path'
    is_method = True

    def __init__(self, max_keep_data: int, method_path: str) -> None:
        super().__init__(max_keep_data, method_path)

    @property
    def method_path(self) -> str:
        """str: Import path of the method."""
        return self.path
