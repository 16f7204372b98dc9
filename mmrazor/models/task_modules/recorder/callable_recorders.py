# Copyright (c) OpenMMLab. All rights reserved.
"""Recorders of a method's or a module-level function's outputs or inputs.

The callable named by ``source`` is replaced by a wrapper when the recorder
is initialized and put back by :meth:`BaseRecorder.remove`. The wrapper
checks the recorder's flag first and, when off, just calls the original.
"""
import functools
import inspect
from types import ModuleType
from typing import Any, Callable, Dict, Optional, Tuple

from torch import nn

from mmrazor.registry import TASK_UTILS

from ._utils import Patch, resolve_path
from .base_recorder import BaseRecorder


class _PatchRecorder(BaseRecorder):
    """Wrap the callable at the import path ``source``; record each call."""

    #: Whether ``source`` names a method of a class (else a function of a
    #: module).
    is_method: bool = True

    def __init__(self, source: str) -> None:
        super().__init__(source)
        owner, name = resolve_path(source, 'source')
        if self.is_method and not isinstance(owner, type):
            raise TypeError(
                f'{self!r}: source must be "package.module.Class.method", '
                f'but {owner!r} is not a class; for a module-level function '
                f'use {type(self).__name__.replace("Method", "Function")}.')
        if not self.is_method and not isinstance(owner, ModuleType):
            raise TypeError(
                f'{self!r}: source must be "package.module.function", but '
                f'{owner!r} is not a module; for a method use '
                f'{type(self).__name__.replace("Function", "Method")}.')
        if not callable(getattr(owner, name)):
            raise TypeError(f'{self!r}: {name!r} of {owner!r} is not '
                            f'callable.')
        self._owner, self._name = owner, name
        self._patch: Optional[Patch] = None

    def _install(self, model: Optional[nn.Module]) -> None:
        self._live = [True]
        self._patch = Patch(self._owner, self._name, self._wrap)

    def _uninstall(self) -> None:
        self._live[0] = False  # a wrapper left in a chain passes through
        if self._patch is not None:
            self._patch.restore()
        self._patch = None

    def _wrap(self, func: Callable) -> Callable:
        live = self._live

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if not (self._recording and live[0]):
                return func(*args, **kwargs)
            outputs = func(*args, **kwargs)
            self._record(args, kwargs, outputs)
            return outputs

        return wrapper

    def _record(self, args: Tuple, kwargs: Dict, outputs: Any) -> None:
        self.data_buffer.append(outputs)


class _InputsMixin:
    """Record ``(positional args..., keyword args in signature order)``.

    ``self`` (or ``cls``) of a method is left out, so ``data_idx=0`` is the
    first argument after it whether it was passed by position or keyword.
    """

    def _wrap(self, func: Callable) -> Callable:
        try:
            self._param_names = list(inspect.signature(func).parameters)
        except (TypeError, ValueError):  # builtins without a signature
            self._param_names = []
        return super()._wrap(func)  # type: ignore[misc]

    def _record(self, args: Tuple, kwargs: Dict, outputs: Any) -> None:
        skip = 1 if self.is_method and not self._patch_is_static() else 0
        inputs = tuple(args[skip:])
        if kwargs:
            order = [n for n in self._param_names if n in kwargs]
            order += [n for n in kwargs if n not in order]
            inputs += tuple(kwargs[n] for n in order)
        self.data_buffer.append(inputs)

    def _patch_is_static(self) -> bool:
        return self._patch is not None and self._patch.is_static


@TASK_UTILS.register_module()
class MethodOutputsRecorder(_PatchRecorder):
    """Record the outputs of a method, for every instance of its class.

    Args:
        source (str): ``'package.module.Class.method'``, e.g.
            ``'mmcls.models.ClsHead.loss'``. The class is patched, so every
            instance (teacher and student alike) is recorded while on; a
            method only inherited by ``Class`` is set on ``Class`` and
            deleted again on :meth:`remove`.

    Examples:
        >>> recorder = MethodOutputsRecorder('collections.Counter.total')
        >>> recorder.initialize()
        >>> from collections import Counter
        >>> with recorder:
        ...     _ = Counter('aab').total()
        >>> recorder.get_record_data()
        3
        >>> recorder.remove()  # Counter.total is the original again
    """

    is_method = True


@TASK_UTILS.register_module()
class MethodInputsRecorder(_InputsMixin, _PatchRecorder):
    """Record the inputs of a method (without ``self``) as a tuple.

    ``source`` as in :class:`MethodOutputsRecorder`; each record is
    ``(positional args..., keyword args in signature order)``.
    """

    is_method = True


@TASK_UTILS.register_module()
class FunctionOutputsRecorder(_PatchRecorder):
    """Record the outputs of a module-level function.

    Args:
        source (str): ``'package.module.function'``, e.g.
            ``'torch.nn.functional.relu'``. The name is patched in that
            module, so only callers that look it up there at call time are
            seen (``F.relu(x)`` and ``nn.ReLU`` are; a caller that did
            ``from torch.nn.functional import relu`` is not). Name the
            module the caller uses: mmcls's ShuffleNetV2 calls
            ``channel_shuffle`` imported into its own module, so record
            ``'mmcls.models.backbones.shufflenet_v2.channel_shuffle'``,
            not ``'mmcls.models.utils.channel_shuffle'``.
    """

    is_method = False


@TASK_UTILS.register_module()
class FunctionInputsRecorder(_InputsMixin, _PatchRecorder):
    """Record the inputs of a module-level function as a tuple.

    ``source`` as in :class:`FunctionOutputsRecorder`; each record is
    ``(positional args..., keyword args in signature order)``.
    """

    is_method = False
