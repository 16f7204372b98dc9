# Copyright (c) OpenMMLab. All rights reserved.
"""Deliver a module-level function's outputs from teacher to student."""
from mmrazor.registry import TASK_UTILS

from .distill_delivery import DistillDelivery


@TASK_UTILS.register_module()
class FunctionOutputsDelivery(DistillDelivery):
    """Replay the outputs of a module-level function (see
    :class:`DistillDelivery`).

    Args:
        max_keep_data (int): Capacity of the queue: at least the number of
            calls in one teacher forward.
        func_path (str): ``'package.module.function'``. The name is patched
            in that module, so name the module the caller looks it up in:
            for ``anchor_inside_flags`` used by mmdet's ``AnchorHead``, that
            is ``'mmdet.models.dense_heads.anchor_head.anchor_inside_flags'``
            rather than where the function is defined.

    Examples:
        >>> import torch
        >>> delivery = FunctionOutputsDelivery(1, 'torch.rand')
        >>> with delivery:  # teacher: record
        ...     t = torch.rand(2)
        >>> delivery.override_data = True
        >>> with delivery:  # student: replay
        ...     s = torch.rand(2)
        >>> torch.equal(t, s)
        True
    """

    path_field = 'func_path'
    is_method = False

    def __init__(self, max_keep_data: int, func_path: str) -> None:
        super().__init__(max_keep_data, func_path)

    @property
    def func_path(self) -> str:
        """str: Import path of the function."""
        return self.path
