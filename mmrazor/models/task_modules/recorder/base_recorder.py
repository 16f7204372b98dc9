# Copyright (c) OpenMMLab. All rights reserved.
"""The contract every recorder follows: install once, switch on by ``with``."""
from abc import ABCMeta, abstractmethod
from typing import Any, List, Optional

from torch import nn


class BaseRecorder(metaclass=ABCMeta):
    """Base class of recorders: collect intermediate results of a forward.

    A recorder has two separate steps:

    1. :meth:`initialize` finds ``source`` and installs the hook (a forward
       hook, or a wrapper of a method or function) once. Errors about a
       missing or mistyped ``source`` are raised here, before any forward.
    2. ``with recorder:`` (or ``with manager:`` of a
       :class:`RecorderManager`) switches recording on: entering clears
       :attr:`data_buffer`, every call of the source inside the block
       appends one record, and leaving switches recording off again. The
       records stay in :attr:`data_buffer` until the next entry or
       :meth:`reset_data`.

    Outside the block the hooks stay installed but return at once after
    checking one boolean: nothing is copied or stored, so a recorded model
    costs one Python call and one flag check per source call when off.
    Records are references to the tensors the model produced, not copies:
    a later in-place op on the same tensor (e.g. ``nn.ReLU(inplace=True)``
    right after the recorded module) changes the record too. Record the
    in-place module's output instead in that case.

    ``with`` blocks may be nested (e.g. a recorder in two managers); only
    the outermost one clears the buffer and switches recording off.

    Args:
        source (str): What to record; its meaning depends on the subclass
            (a module name, a parameter name or an import path).
    """

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise TypeError(f'{type(self).__name__}: source must be a str, '
                            f'got {type(source).__name__} ({source!r}).')
        self.source = source
        self.data_buffer: List[Any] = []
        self._recording = False
        self._depth = 0
        self._initialized = False

    @property
    def recording(self) -> bool:
        """bool: Whether calls of the source are recorded now."""
        return self._recording

    @property
    def initialized(self) -> bool:
        """bool: Whether :meth:`initialize` installed the hook."""
        return self._initialized

    def __repr__(self) -> str:
        return f'{type(self).__name__}(source={self.source!r})'

    @abstractmethod
    def _install(self, model: Optional[nn.Module]) -> None:
        """Find the source in ``model`` and install the hook."""

    @abstractmethod
    def _uninstall(self) -> None:
        """Remove the hook and restore anything patched."""

    def _on_enter(self) -> None:
        """Called when recording switches on, after the buffer is cleared."""
        return None

    def initialize(self, model: Optional[nn.Module] = None) -> None:
        """Find ``source`` and install the hook; idempotent.

        Args:
            model (nn.Module, optional): The model to record. Module and
                parameter names are resolved relative to it; a DDP or
                other mmengine model wrapper is unwrapped first, so names
                never carry the wrapper's ``module.`` prefix. Method and
                function recorders ignore it. Defaults to None.
        """
        if self._initialized:
            self.remove()
        self._install(model)
        self._initialized = True

    def remove(self) -> None:
        """Switch recording off, remove the hook and restore patched code."""
        self._recording = False
        self._depth = 0
        if self._initialized:
            self._uninstall()
            self._initialized = False

    def reset_data(self) -> None:
        """Drop all records."""
        self.data_buffer = []

    def get_record_data(self,
                        record_idx: int = 0,
                        data_idx: Optional[int] = None) -> Any:
        """Return one record, or one item of it.

        Args:
            record_idx (int): Which call of the source, in call order.
                Defaults to 0.
            data_idx (int, optional): Index into a tuple or list record,
                e.g. which positional input of an inputs recorder. None
                returns the whole record. Defaults to None.

        Returns:
            Any: The record (its type depends on the source).
        """
        n = len(self.data_buffer)
        if not -n <= record_idx < n:
            hint = (' Nothing was recorded: run the model inside '
                    '`with recorder:` (or `with manager:`).' if n == 0 else '')
            raise IndexError(
                f'{self!r}: record_idx={record_idx} is out of range; '
                f'{n} record(s) available (valid: 0..{n - 1}).{hint}')
        record = self.data_buffer[record_idx]
        if data_idx is None:
            return record
        if not isinstance(record, (tuple, list)):
            raise TypeError(
                f'{self!r}: data_idx={data_idx} needs a tuple or list '
                f'record, but record {record_idx} is a '
                f'{type(record).__name__}; pass data_idx=None.')
        if not -len(record) <= data_idx < len(record):
            raise IndexError(
                f'{self!r}: data_idx={data_idx} is out of range; record '
                f'{record_idx} has {len(record)} item(s).')
        return record[data_idx]

    def __enter__(self) -> 'BaseRecorder':
        if not self._initialized:
            raise RuntimeError(
                f'{self!r} is not initialized: call '
                f'recorder.initialize(model) (RecorderManager.initialize '
                f'does it for all its recorders) before `with recorder:`.')
        if self._depth == 0:
            self.reset_data()
            self._on_enter()
            self._recording = True
        self._depth += 1
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self._depth = max(self._depth - 1, 0)
        if self._depth == 0:
            self._recording = False
