# Copyright (c) OpenMMLab. All rights reserved.
"""Safe local checkpoint loading for mmengine on torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10.7
calls ``torch.load`` without the argument. Checkpoints written by mmengine's
``Runner`` hold a ``message_hub`` state (``HistoryBuffer`` objects with numpy
arrays) and a ``param_schedulers`` state, which torch's allow-list refuses.

:func:`load_from_local` always loads with torch's own weights-only unpickler
(which checks every opcode, BUILD included) and widens its allow-list, for the
duration of one load, by the few globals mmengine checkpoints need. None of
them is handed to the unpickler as it is:

- ``builtins.getattr`` resolves to a guard that only returns the
  (class, attribute) pairs mmengine pickles (``HistoryBuffer.mean``, ...).
- ``HistoryBuffer`` resolves to a checked stand-in that validates its state
  and then becomes a real ``HistoryBuffer``; the class-level statistics
  table of mmengine is never updated from a file.
- ``OneCycleParamScheduler`` resolves to a reference that can only be
  passed to the getattr guard; it cannot be instantiated.
- numpy arrays, numeric dtypes and scalars are rebuilt; object arrays are
  refused.

Nothing is loaded with plain :mod:`pickle`. See ``docs/en/notes/security.md``.
"""
import os.path as osp
import pickle
import re
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.optim.scheduler.param_scheduler import OneCycleParamScheduler
from mmengine.runner import CheckpointLoader

_HISTORY_BUFFER = 'mmengine.logging.history_buffer.HistoryBuffer'
_ONE_CYCLE = 'mmengine.optim.scheduler.param_scheduler.OneCycleParamScheduler'

_TRUST_HINT = (
    'If you trust this file, load it yourself with '
    '`torch.load(path, weights_only=False)` and save the plain state dict '  # noqa: E501  # safe: text
    '(`torch.save(checkpoint["state_dict"], new_path)`), then load that.')


def _refuse(what: str) -> pickle.UnpicklingError:
    """Build the error raised for anything outside the allow-list."""
    return pickle.UnpicklingError(
        f'Refusing to unpickle {what}: the file is not a recognised '
        f'mmengine/mmrazor checkpoint. {_TRUST_HINT}')


class _OneCycleRef:
    """Stands for ``OneCycleParamScheduler`` in a checkpoint.

    OneCycleLR's ``anneal_func`` is pickled as ``getattr(cls, name)``; this
    reference can only be resolved through :func:`_guarded_getattr`.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> '_OneCycleRef':
        raise _refuse(f'an instance of {_ONE_CYCLE}')


class _CheckedHistoryBuffer(HistoryBuffer):
    """Stands for ``HistoryBuffer`` while a checkpoint is unpickled.

    The unpickler creates it empty (``__new__``) and sets its state with
    :meth:`__setstate__`, which checks the state and turns the object into
    a plain ``HistoryBuffer``.
    """

    _STATE_KEYS = frozenset(
        {'max_length', '_log_history', '_count_history', 'statistics_methods'})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _refuse(f'a call of {_HISTORY_BUFFER}')

    def __setstate__(self, state: Any) -> None:
        """Check ``state`` and become a ``HistoryBuffer`` holding it.

        Args:
            state: The pickled ``__dict__`` of a ``HistoryBuffer``.

        Raises:
            pickle.UnpicklingError: If a key, a type or a statistics method
                is not what mmengine writes.
        """
        if not isinstance(state, dict) or not set(state) <= self._STATE_KEYS:
            keys = sorted(state) if isinstance(state, dict) else state
            raise _refuse(f'a HistoryBuffer state with keys {keys!r}')
        state = dict(state)
        methods = state.pop('statistics_methods', {})
        if not isinstance(methods, dict) or any(
                name not in _GETATTR_ALLOWED[_HISTORY_BUFFER]
                or method is not getattr(HistoryBuffer, name)
                for name, method in methods.items()):
            raise _refuse(f'HistoryBuffer statistics methods {methods!r}')
        for key in ('_log_history', '_count_history'):
            if key in state and not isinstance(state[key], np.ndarray):
                raise _refuse(f'a HistoryBuffer {key} of type '
                              f'{type(state[key]).__name__}')
        if not isinstance(state.get('max_length', 0), int):
            raise _refuse('a HistoryBuffer max_length that is not an int')
        self.__class__ = HistoryBuffer
        # The default methods are already in the class-level table.
        HistoryBuffer.__setstate__(self, state)


# ``builtins.getattr`` is given out only as a guard that permits these
# (class, attribute) pairs: protocol-2 pickles store class-level functions
# as ``getattr(cls, name)``.
_GETATTR_ALLOWED: dict[str, frozenset] = {
    # ``HistoryBuffer.__getstate__`` saves its statistics methods.
    _HISTORY_BUFFER: frozenset({'min', 'max', 'current', 'mean'}),
    # OneCycle ``param_schedulers`` state keeps ``anneal_func``.
    _ONE_CYCLE: frozenset({'_annealing_cos', '_annealing_linear'}),
}
_STAND_INS: dict[type, tuple[str, type]] = {
    _CheckedHistoryBuffer: (_HISTORY_BUFFER, HistoryBuffer),
    _OneCycleRef: (_ONE_CYCLE, OneCycleParamScheduler),
}


def _guarded_getattr(obj: Any, name: Any) -> Any:
    """``getattr`` restricted to the pairs in ``_GETATTR_ALLOWED``.

    Args:
        obj: The object whose attribute is requested (one of the stand-ins).
        name: The attribute name.

    Returns:
        The attribute of the real mmengine class, if the pair is allowed.

    Raises:
        pickle.UnpicklingError: If the pair is not allowed.
    """
    path, real = _STAND_INS.get(obj, (None, None)) if isinstance(
        obj, type) else (None, None)
    if path is None or name not in _GETATTR_ALLOWED[path]:
        shown = path or repr(obj)
        raise _refuse(f'getattr({shown}, {name!r})')
    return getattr(real, name)


def _numeric_dtype_classes() -> list[type]:
    """numpy 2's per-dtype classes of bool, integer, float and complex."""
    kinds = (np.bool_, np.integer, np.floating, np.complexfloating)
    classes = []
    for scalar in {t for kind in kinds for t in np.sctypeDict.values()
                   if isinstance(t, type) and issubclass(t, kind)}:
        classes.append(type(np.dtype(scalar)))
    return classes


def _extra_globals() -> list[Any]:
    """Globals added to torch's allow-list while a checkpoint loads."""
    multiarray = np._core.multiarray
    extra: list[Any] = [
        (_guarded_getattr, 'builtins.getattr'),
        (_CheckedHistoryBuffer, _HISTORY_BUFFER),
        (_OneCycleRef, _ONE_CYCLE),
        # ``HistoryBuffer._log_history`` is a numpy array; numpy < 2 writes
        # the ``numpy.core`` path.
        (multiarray._reconstruct, 'numpy._core.multiarray._reconstruct'),
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        # numpy scalars, e.g. ``message_hub['runtime_info']['eta']``.
        (multiarray.scalar, 'numpy._core.multiarray.scalar'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
        (np.ndarray, 'numpy.ndarray'),
        (np.dtype, 'numpy.dtype'),
    ]
    # BUILD of a dtype runs on its per-dtype class (``Float64DType``, ...).
    extra.extend(_numeric_dtype_classes())
    return extra


MapLocation = str | torch.device | dict[str, str] | Callable | None


def _main_pickle_head(filename: str) -> bytes:
    """First two bytes of the checkpoint's main pickle (either format)."""
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as archive:
            names = [n for n in archive.namelist() if n.endswith('data.pkl')]
            if not names:
                return b''
            with archive.open(names[0]) as f:
                return f.read(2)
    with open(filename, 'rb') as f:
        return f.read(2)


def _describe_unreadable(filename: str, error: Exception) -> str:
    """Say why ``filename`` could not be read as a checkpoint."""
    size = osp.getsize(filename)
    if size == 0:
        return f'{filename} is empty (0 bytes): it is not a checkpoint.'
    if zipfile.is_zipfile(filename):
        return (f'{filename} is a zip file but not a readable torch '
                f'checkpoint ({type(error).__name__}: {error}); it may be '
                'truncated or damaged.')
    return (f'{filename} ({size} bytes) is not a torch checkpoint, or it is '
            f'truncated ({type(error).__name__}: {error}).')


def _explain_refusal(filename: str, message: str) -> str:
    """Turn torch's weights-only refusal into one actionable reason."""
    if 'Refusing to unpickle' in message:
        return message[message.index('Refusing to unpickle'):].split(
            '\n\n')[0]
    found = re.search(r'GLOBAL (\S+)', message)
    if found:  # torch's own advice would be to allow-list it globally.
        return str(_refuse(f'global {found.group(1)}'))
    marker = 'WeightsUnpickler error:'
    if marker in message:
        message = message[message.index(marker) + len(marker):]
    detail = message.strip().split('\n\n')[0].strip()
    if detail.startswith('Unsupported operand'):
        head = _main_pickle_head(filename)
        if head[:1] != b'\x80':
            return (f'the file is not a torch checkpoint ({detail}); it may '
                    'be damaged or another kind of file.')
        if head[1:2] > b'\x02':
            detail += (f' (the file uses pickle protocol {head[1]}, which '
                       "torch's weights-only loader does not read; "
                       '`torch.save` writes protocol 2 by default)')
    return (f'{detail}. The file is not a recognised mmengine/mmrazor '
            f'checkpoint. {_TRUST_HINT}')


def load_from_local(filename: str, map_location: MapLocation = None) -> Any:
    """Load a local checkpoint with torch's weights-only unpickler.

    The allow-list is torch's own plus, for this load only, the checked
    stand-ins of the globals that mmengine checkpoints need (see the module
    docstring). Tensors, plain containers and numbers load as with
    ``torch.load(weights_only=True)``.

    Args:
        filename: Local checkpoint path (``~`` is expanded).
        map_location: Same as :func:`torch.load`.

    Returns:
        The loaded checkpoint.

    Raises:
        FileNotFoundError: If ``filename`` is not a file.
        pickle.UnpicklingError: If the file needs a global, an opcode or a
            state outside the allow-list, or is not a checkpoint at all; the
            message names the file.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        with torch.serialization.safe_globals(_extra_globals()):
            return torch.load(  # safe: weights_only=True
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise pickle.UnpicklingError(
            f'Cannot load checkpoint {filename}: '
            f'{_explain_refusal(filename, str(error))}') from error
    except (EOFError, RuntimeError, ValueError, zipfile.BadZipFile) as error:
        raise pickle.UnpicklingError(
            f'Cannot load checkpoint {_describe_unreadable(filename, error)}'
        ) from error


def install_checkpoint_loader() -> None:
    """Register :func:`load_from_local` as mmengine's local loader.

    Idempotent; affects every local path loaded through
    ``CheckpointLoader`` (``Runner`` ``load_from``/``resume``,
    ``mmengine.runner.load_checkpoint``, ``init_cfg`` ``Pretrained``).
    """
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
