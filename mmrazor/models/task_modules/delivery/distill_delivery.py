# Copyright (c) OpenMMLab. All rights reserved.
"""The contract of deliveries: record a callable's outputs, replay them."""
from collections import deque
from types import ModuleType
from typing import Any, Callable, Optional

from ..recorder._utils import Patch, resolve_path


class DistillDelivery:
    """Pass the outputs of a function or method from the teacher's forward
    to the student's, e.g. to apply the same random augmentation to both.

    Inside ``with delivery:`` the callable at ``path`` is replaced by a
    wrapper (and restored on leaving), which depends on
    :attr:`override_data`:

    * ``override_data=False`` (record, the teacher's forward, default):
      call the original and push its output into :attr:`data_queue`.
    * ``override_data=True`` (replay, the student's forward): do not call
      the original; pop and return the oldest queued output instead.

    So the i-th call in the student's forward returns what the i-th call
    returned in the teacher's. Outside ``with`` the callable is the
    original. Several deliveries are handled together by
    :class:`DistillDeliveryManager`.

    Args:
        max_keep_data (int): Capacity of the queue: at least the number of
            calls in one teacher forward. Defaults to 1.
        path (str): Import path of the callable.

    Raises:
        RuntimeError: When recording would push into a full queue (the
            teacher calls it more than ``max_keep_data`` times, or the
            student replayed fewer outputs than the teacher recorded), or
            replaying pops from an empty one (the student calls it more
            often than the teacher did, or the teacher did not run first).
    """

    #: Name of the argument that holds the import path, for messages.
    path_field: str = 'path'
    #: Whether the path names a method of a class (else a function).
    is_method: bool = False

    def __init__(self, max_keep_data: int = 1, path: str = '') -> None:
        if (not isinstance(max_keep_data, int)
                or isinstance(max_keep_data, bool) or max_keep_data < 1):
            raise ValueError(f'{type(self).__name__}: max_keep_data must be '
                             f'an int >= 1, got {max_keep_data!r}.')
        self.max_keep_data = max_keep_data
        self.path = path
        self._check_path()
        self.data_queue: deque = deque()
        self._override_data = False
        self._patch: Optional[Patch] = None
        self._live = [False]

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.path_field}={self.path!r})'

    def _check_path(self) -> None:
        owner, name = resolve_path(self.path, self.path_field)
        if self.is_method and not isinstance(owner, type):
            raise TypeError(
                f'{self!r}: {self.path_field} must be '
                f'"package.module.Class.method", but {owner!r} is not a '
                f'class; for a function use FunctionOutputsDelivery.')
        if not self.is_method and not isinstance(owner, ModuleType):
            raise TypeError(
                f'{self!r}: {self.path_field} must be '
                f'"package.module.function", but {owner!r} is not a '
                f'module; for a method use MethodOutputsDelivery.')
        if not callable(getattr(owner, name)):
            raise TypeError(f'{self!r}: {name!r} of {owner!r} is not '
                            f'callable.')

    @property
    def override_data(self) -> bool:
        """bool: True replays queued outputs, False records new ones."""
        return self._override_data

    @override_data.setter
    def override_data(self, override: bool) -> None:
        self._override_data = bool(override)

    def reset_data(self) -> None:
        """Drop all queued outputs."""
        self.data_queue.clear()

    def deliver_wrapper(self, origin: Callable) -> Callable:
        """Return the wrapper that records or replays ``origin``."""
        live = self._live

        def wrapper(*args, **kwargs) -> Any:
            if not live[0]:  # left `with`, but still wrapped by someone else
                return origin(*args, **kwargs)
            if self._override_data:
                if not self.data_queue:
                    raise RuntimeError(
                        f'{self!r}: nothing to replay (override_data=True, '
                        f'empty queue). The student calls it more often '
                        f'than the teacher did, or the teacher forward '
                        f'(override_data=False) did not run first.')
                return self.data_queue.popleft()
            if len(self.data_queue) >= self.max_keep_data:
                raise RuntimeError(
                    f'{self!r}: queue full (max_keep_data='
                    f'{self.max_keep_data}) while recording. Raise '
                    f'max_keep_data to the number of calls per teacher '
                    f'forward, or call reset_data() if the student did not '
                    f'replay the previous outputs.')
            outputs = origin(*args, **kwargs)
            self.data_queue.append(outputs)
            return outputs

        return wrapper

    def __enter__(self) -> 'DistillDelivery':
        if self._patch is not None:
            raise RuntimeError(f'{self!r} is already active; `with` blocks '
                               f'of one delivery cannot be nested.')
        owner, name = resolve_path(self.path, self.path_field)
        self._live = [True]
        self._patch = Patch(owner, name, self.deliver_wrapper)
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        patch, self._patch = self._patch, None
        self._live[0] = False
        if patch is not None:
            patch.restore()
