# Copyright (c) OpenMMLab. All rights reserved.
"""Write files atomically: readers see the old file or the whole new one.

Every file mmrazor writes goes through :func:`atomic_open`: the content is
written to a temporary file in the destination's folder, flushed and fsynced,
then moved over the destination with :func:`os.replace`. A run killed while
writing, or a full disk, leaves the earlier file untouched and no temporary
file behind.
"""
import contextlib
import json
import os
import os.path as osp
import tempfile
from typing import IO, Any, Iterator, Union

import torch
import yaml
from mmengine.fileio import io as fileio_io
from mmengine.fileio.backends import LocalBackend, register_backend

PathLike = Union[str, os.PathLike]


def _check_overwrite(path: str, overwrite: bool, what: str) -> None:
    if not overwrite and osp.exists(path):
        raise FileExistsError(
            f'{what} {path!r} already exists and is kept; choose another '
            'path, or pass the overwrite flag of the command/function to '
            'replace it')


@contextlib.contextmanager
def atomic_open(path: PathLike,
                mode: str = 'w',
                overwrite: bool = True,
                what: str = 'File',
                **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` when the block succeeds.

    Args:
        path: Destination; its parent folders are created.
        mode: ``'w'`` (text) or ``'wb'`` (binary).
        overwrite: Whether an existing ``path`` may be replaced. If False and
            the file exists, :class:`FileExistsError` is raised before
            anything is written.
        what: What the file is, for the error message.
        **kwargs: Passed to :func:`open` (e.g. ``newline=''``).

    Yields:
        The open temporary file.

    Raises:
        FileExistsError: If ``path`` exists and ``overwrite`` is False.
        ValueError: If ``mode`` is not ``'w'`` or ``'wb'``.
    """
    if mode not in ('w', 'wb'):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    _check_overwrite(path, overwrite, what)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if not overwrite and osp.exists(path):  # appeared meanwhile
            _check_overwrite(path, overwrite, what)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose writes go through
    :func:`atomic_open`, so that checkpoints (``put``) and
    ``last_checkpoint`` (``put_text``) are never left half written."""

    def put(self, obj: bytes, filepath: PathLike) -> None:
        """Write ``obj`` to ``filepath`` atomically."""
        with atomic_open(filepath, 'wb') as f:
            f.write(obj)

    def put_text(self, obj: str, filepath: PathLike,
                 encoding: str = 'utf-8') -> None:
        """Write text ``obj`` to ``filepath`` atomically."""
        with atomic_open(filepath, 'w', encoding=encoding) as f:
            f.write(obj)


def install_atomic_local_backend() -> None:
    """Make :class:`AtomicLocalBackend` mmengine's backend of local paths.

    Idempotent; drops cached local backend instances so that every later
    ``get_file_backend`` of a local path returns the atomic one.
    """
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    for key in [k for k, v in fileio_io.backend_instances.items()
                if type(v) is LocalBackend]:
        del fileio_io.backend_instances[key]


def atomic_torch_save(obj: Any, path: PathLike, overwrite: bool = True,
                      what: str = 'File') -> str:
    """``torch.save`` through :func:`atomic_open`; returns the path."""
    with atomic_open(path, 'wb', overwrite=overwrite, what=what) as f:
        torch.save(obj, f)
    return os.fspath(path)


def atomic_dump_json(data: Any, path: PathLike, overwrite: bool = True,
                     what: str = 'File', **kwargs: Any) -> str:
    """``json.dump`` through :func:`atomic_open`; returns the path."""
    with atomic_open(path, overwrite=overwrite, what=what) as f:
        json.dump(data, f, **kwargs)
    return os.fspath(path)


def atomic_dump_yaml(data: Any, path: PathLike, overwrite: bool = True,
                     what: str = 'File') -> str:
    """``yaml.safe_dump`` (key order kept) through :func:`atomic_open`."""
    with atomic_open(path, overwrite=overwrite, what=what) as f:
        yaml.safe_dump(data, f, sort_keys=False)
    return os.fspath(path)
