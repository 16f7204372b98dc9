# Copyright (c) OpenMMLab. All rights reserved.
"""A named set of deliveries, switched between record and replay together."""
from typing import Dict, Optional, Union

from ..recorder._utils import ComponentGroup
from .distill_delivery import DistillDelivery


class DistillDeliveryManager(ComponentGroup):
    """Build a named set of deliveries and drive them together.

    Usage in a distiller (as in the original MMRazor)::

        manager.override_data = False   # teacher: record
        with manager:
            teacher(batch)
        manager.override_data = True    # student: replay
        with manager:
            student(batch)

    Args:
        deliveries (dict, optional): ``{name: cfg}``, where ``cfg['type']``
            is the registered name of a delivery in ``TASK_UTILS``
            (``'FunctionOutputsDelivery'`` or ``'MethodOutputsDelivery'``,
            or the original MMRazor's short ``'FunctionOutputs'``); a built
            :class:`DistillDelivery` is accepted too. Defaults to None.
    """

    def __init__(self,
                 deliveries: Optional[Dict[str, Union[Dict,
                                                      DistillDelivery]]] = None
                 ) -> None:
        super().__init__(deliveries, DistillDelivery, 'deliveries',
                         'delivery')
        self._override_data = False
        self.override_data = False

    @property
    def deliveries(self) -> Dict[str, DistillDelivery]:
        """dict: ``{name: delivery}``."""
        return self._components

    def get_delivery(self, name: str) -> DistillDelivery:
        """Return the delivery called ``name``."""
        return self._get(name)

    @property
    def override_data(self) -> bool:
        """bool: False records (teacher), True replays (student); setting
        it sets every delivery."""
        return self._override_data

    @override_data.setter
    def override_data(self, override: bool) -> None:
        self._override_data = bool(override)
        for delivery in self._components.values():
            delivery.override_data = self._override_data
