# Copyright (c) OpenMMLab. All rights reserved.
"""A named set of recorders, built from configs and switched on together."""
from typing import Any, Dict, Optional, Union

from torch import nn

from ._utils import ComponentGroup
from .base_recorder import BaseRecorder


class RecorderManager(ComponentGroup):
    """Build, initialize and switch on a named set of recorders.

    Args:
        recorders (dict, optional): ``{name: cfg}``, where ``cfg['type']`` is
            the registered name of a recorder in ``TASK_UTILS`` (e.g.
            ``'ModuleOutputsRecorder'``, or the original MMRazor's short
            ``'ModuleOutputs'``) and the other keys are its arguments; a
            built :class:`BaseRecorder` is accepted too. Defaults to None.

    Examples:
        >>> import torch
        >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        >>> manager = RecorderManager(dict(
        ...     fc=dict(type='ModuleOutputsRecorder', source='0'),
        ...     act_in=dict(type='ModuleInputsRecorder', source='1')))
        >>> manager.initialize(model)
        >>> with manager:
        ...     _ = model(torch.zeros(1, 2))
        >>> manager.get_record_data('act_in', data_idx=0).shape
        torch.Size([1, 3])
    """

    def __init__(self,
                 recorders: Optional[Dict[str, Union[Dict,
                                                     BaseRecorder]]] = None
                 ) -> None:
        super().__init__(recorders, BaseRecorder, 'recorders', 'recorder')

    @property
    def recorders(self) -> Dict[str, BaseRecorder]:
        """dict: ``{name: recorder}``."""
        return self._components

    def get_recorder(self, name: str) -> BaseRecorder:
        """Return the recorder called ``name``."""
        return self._get(name)

    def get_record_data(self,
                        name: str,
                        record_idx: int = 0,
                        data_idx: Optional[int] = None) -> Any:
        """``get_recorder(name).get_record_data(record_idx, data_idx)``."""
        return self.get_recorder(name).get_record_data(record_idx, data_idx)

    def initialize(self, model: Optional[nn.Module] = None) -> None:
        """Initialize every recorder on ``model`` (see
        :meth:`BaseRecorder.initialize`); a failure removes the hooks
        already installed and names the recorder."""
        done = []
        for name, recorder in self._components.items():
            try:
                recorder.initialize(model)
            except Exception as e:
                for other in done:
                    other.remove()
                if type(e) in (ValueError, TypeError, RuntimeError):
                    raise type(e)(f'recorder {name!r}: {e}') from e
                raise
            done.append(recorder)

    def remove(self) -> None:
        """Remove every recorder's hook and restore patched code."""
        for recorder in reversed(list(self._components.values())):
            recorder.remove()
