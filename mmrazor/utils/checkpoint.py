# Copyright (c) OpenMMLab. All rights reserved.
"""Safe local checkpoint loading for mmengine on torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10.7
calls ``torch.load`` without the argument. Checkpoints written by mmengine's
``Runner`` hold a ``message_hub`` state (``HistoryBuffer`` objects with numpy
arrays) and so fail to load. :func:`install_checkpoint_loader` replaces
mmengine's local loader with :func:`load_from_local`, which first loads with
``weights_only=True`` and, only if that is refused, loads again with an
unpickler that accepts nothing beyond what mmengine's own checkpoints need.
"""
import _compat_pickle
import functools
import os
import os.path as osp
import pickle
import types
from collections.abc import Callable
from typing import IO, Any

import torch
from mmengine.runner import CheckpointLoader

_HISTORY_BUFFER = 'mmengine.logging.history_buffer.HistoryBuffer'
_ONE_CYCLE = 'mmengine.optim.scheduler.param_scheduler.OneCycleParamScheduler'

# Globals accepted on top of those torch's own weights-only unpickler accepts
# (tensor rebuild functions, storage types, dtypes, ``OrderedDict``, ...).
_EXTRA_GLOBALS = frozenset({
    # ``message_hub['log_scalars']`` values: the runner's logged scalars.
    _HISTORY_BUFFER,
    # Parent of OneCycleLR's ``anneal_func`` static method, which
    # ``param_schedulers`` state pickles as ``getattr(parent, name)``.
    _ONE_CYCLE,
    # ``HistoryBuffer._log_history`` is a numpy array: ndarray reconstruction
    # (``numpy.core`` is the module path numpy < 2 writes).
    'numpy._core.multiarray._reconstruct',
    'numpy.core.multiarray._reconstruct',
    'numpy.ndarray',
    # dtype of those arrays and of the numpy scalars below.
    'numpy.dtype',
    # numpy scalars, e.g. ``message_hub['runtime_info']['eta']``.
    'numpy._core.multiarray.scalar',
    'numpy.core.multiarray.scalar',
})

# ``builtins.getattr`` is given out only as a guard that permits these
# (class, attribute) pairs: protocol-2 pickles store class-level functions
# as ``getattr(cls, name)``.
_GETATTR_ALLOWED: dict[str, frozenset] = {
    # ``HistoryBuffer.__getstate__`` saves its statistics methods.
    _HISTORY_BUFFER: frozenset({'min', 'max', 'current', 'mean'}),
    # OneCycle ``param_schedulers`` state keeps ``anneal_func``.
    _ONE_CYCLE: frozenset({'_annealing_cos', '_annealing_linear'}),
}

_TRUST_HINT = (
    'If you trust this file, load it yourself with '
    '`torch.load(path, weights_only=False)` and save the plain state dict '
    '(`torch.save(checkpoint["state_dict"], new_path)`), then load that.')


def _refuse(what: str) -> pickle.UnpicklingError:
    """Build the error raised for anything outside the allow-list."""
    return pickle.UnpicklingError(
        f'Refusing to unpickle {what}: the file is not a recognised '
        f'mmengine/mmrazor checkpoint. {_TRUST_HINT}')


def _guarded_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to the pairs in ``_GETATTR_ALLOWED``.

    Args:
        obj: The object whose attribute is requested.
        name: The attribute name.

    Returns:
        The attribute, if the (class, attribute) pair is allowed.

    Raises:
        pickle.UnpicklingError: If the pair is not allowed.
    """
    path = (f'{obj.__module__}.{obj.__qualname__}'
            if isinstance(obj, type) else None)
    if path is None or name not in _GETATTR_ALLOWED.get(path, ()):
        raise _refuse(f'getattr({obj!r}, {name!r})')
    return getattr(obj, name)


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` only resolves allow-listed globals."""

    def find_class(self, module: str, name: str) -> Any:
        """Resolve ``module.name`` if it is allowed.

        Args:
            module: Module name as written in the pickle.
            name: Global name as written in the pickle.

        Returns:
            The allowed object.

        Raises:
            pickle.UnpicklingError: If ``module.name`` is not allowed.
        """
        # Python 2 names, which protocol 2 (torch.save's default) writes.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if '.' in name:  # protocol >= 4 writes nested names directly.
            owner, attr = name.rsplit('.', 1)
            return _guarded_getattr(self.find_class(module, owner), attr)
        key = f'{module}.{name}'
        if key == 'builtins.getattr':
            return _guarded_getattr
        torch_allowed = _torch_allowed_globals()
        if key in torch_allowed:
            return torch_allowed[key]
        if key in _EXTRA_GLOBALS:
            return super().find_class(module, name)
        raise _refuse(f'global {key}')


@functools.cache
def _torch_allowed_globals() -> dict[str, Any]:
    """Return the globals torch's weights-only unpickler accepts."""
    from torch import _weights_only_unpickler
    return _weights_only_unpickler._get_allowed_globals()


def _restricted_load(file: IO[bytes], **kwargs: Any) -> Any:
    """``pickle.load`` with :class:`_RestrictedUnpickler`."""
    return _RestrictedUnpickler(file, **kwargs).load()


# The module-like object handed to ``torch.load(pickle_module=...)``.
_restricted_pickle = types.ModuleType('mmrazor_restricted_pickle')
_restricted_pickle.Unpickler = _RestrictedUnpickler  # type: ignore
_restricted_pickle.load = _restricted_load  # type: ignore
_restricted_pickle.UnpicklingError = pickle.UnpicklingError  # type: ignore

MapLocation = str | torch.device | dict[str, str] | Callable | None


def load_from_local(filename: str, map_location: MapLocation = None) -> Any:
    """Load a local checkpoint without unrestricted unpickling.

    Tries ``torch.load(weights_only=True)`` first; if torch refuses the file,
    loads it again with an unpickler restricted to torch's weights-only
    allow-list plus the few mmengine/numpy globals of mmengine checkpoints.

    Args:
        filename: Local checkpoint path (``~`` is expanded).
        map_location: Same as :func:`torch.load`.

    Returns:
        The loaded checkpoint.

    Raises:
        FileNotFoundError: If ``filename`` is not a file.
        pickle.UnpicklingError: If the file needs a global outside the
            allow-list.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        forced = os.getenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', '0').lower()
        if forced in ('1', 'y', 'yes', 'true'):
            raise  # The user asked for weights-only loading only.
    return torch.load(
        filename,
        map_location=map_location,
        weights_only=False,
        pickle_module=_restricted_pickle)


def install_checkpoint_loader() -> None:
    """Register :func:`load_from_local` as mmengine's local loader.

    Idempotent; affects every local path loaded through
    ``CheckpointLoader`` (``Runner`` ``load_from``/``resume``,
    ``mmengine.runner.load_checkpoint``, ``init_cfg`` ``Pretrained``).
    """
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
