# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers the original MMRazor exported from ``mmrazor.utils``: logging
levels, runtime information, index ranges, optional-dependency stand-ins
and process set-up."""
import logging
import math
from collections import OrderedDict
from typing import Any, Tuple, Union

from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.logging import print_log as _mmengine_print_log
from mmengine.runner.checkpoint import find_latest_checkpoint  # noqa: F401
from mmengine.utils.dl_utils import set_multi_processing


def get_level(level: Union[str, int] = 'info') -> int:
    """A ``logging`` level from its name (any case) or number."""
    if isinstance(level, int):
        return level
    if isinstance(level, str) and level.upper() in logging._nameToLevel:
        return logging._nameToLevel[level.upper()]
    raise ValueError(f'{level!r} is not a logging level; use one of '
                     f'{sorted(logging._nameToLevel)} or an int')


def print_log(msg: Any, logger: Any = 'current',
              level: Union[str, int] = 'info') -> None:
    """mmengine's ``print_log`` with a level given by name or number."""
    _mmengine_print_log(msg, logger, get_level(level))


def setup_multi_processes(cfg: Any) -> None:
    """Set the multiprocessing start method and the OpenCV threads from
    ``cfg.env_cfg`` (or the top level of ``cfg``), as mmengine's runner
    does."""
    env = cfg.get('env_cfg', cfg)
    mp_cfg = env.get('mp_cfg', env)
    set_multi_processing(
        mp_start_method=mp_cfg.get('mp_start_method', 'fork'),
        opencv_num_threads=mp_cfg.get('opencv_num_threads', 0),
        distributed=cfg.get('launcher', 'none') != 'none')


class RuntimeInfo:
    """The runner's progress, read from the current ``MessageHub``."""

    @classmethod
    def info(cls) -> dict:
        return MessageHub.get_current_instance().runtime_info

    @classmethod
    def get_info(cls, key: str) -> Any:
        info = cls.info()
        if key not in info:
            raise KeyError(f'{key!r} is not in the runtime info (keys: '
                           f'{sorted(info)}); is a runner running?')
        return info[key]

    @classmethod
    def epoch(cls) -> int:
        return cls.get_info('epoch')

    @classmethod
    def max_epochs(cls) -> int:
        return cls.get_info('max_epochs')

    @classmethod
    def iter(cls) -> int:
        return cls.get_info('iter')

    @classmethod
    def max_iters(cls) -> int:
        return cls.get_info('max_iters')

    @classmethod
    def iter_pre_epoch(cls) -> int:
        """Iterations per epoch (the original's spelling)."""
        return math.ceil(cls.max_iters() / cls.max_epochs())

    @classmethod
    def iter_by_epoch(cls) -> int:
        """The iteration within the current epoch."""
        return cls.iter() % cls.iter_pre_epoch()

    @classmethod
    def config(cls) -> Config:
        return Config.fromstring(cls.get_info('cfg'), '.py')

    @classmethod
    def work_dir(cls) -> str:
        return cls.config()['work_dir']


class IndexDict(OrderedDict):
    """An ordered dict keyed by non-overlapping ranges ``(start, end)``
    (``start < end``, end excluded), kept sorted.

    ``(a, b) in d`` is True when the range overlaps a key.
    """

    def __setitem__(self, index: Tuple[int, int], value: Any) -> None:
        start, end = self._check_index(index)
        if index in self:
            raise ValueError(f'IndexDict: {index} overlaps a range already '
                             f'in it ({list(self)})')
        super().__setitem__((start, end), value)
        items = sorted(self.items())
        self.clear()
        for key, item in items:
            super().__setitem__(key, item)

    def __contains__(self, index: object) -> bool:
        if super().__contains__(index):
            return True
        start, end = self._check_index(index)
        return any(s < end and start < e for s, e in self.keys())

    @staticmethod
    def _check_index(index: Any) -> Tuple[int, int]:
        if not (isinstance(index, tuple) and len(index) == 2
                and all(isinstance(i, int) for i in index)
                and index[0] < index[1]):
            raise ValueError('IndexDict keys are (start, end) int pairs '
                             f'with start < end, not {index!r}')
        return index


def _missing(package: str):
    raise ImportError(f'`{package}` is not installed properly; install it '
                      'to use this class')


def get_placeholder(string: str) -> type:
    """A class that raises ImportError naming ``string`` (a package) when
    it is instantiated: what a module binds to a name of an optional
    dependency that failed to import."""

    class PlaceHolder:

        def __init__(self, *args, **kwargs) -> None:
            _missing(string)

    return PlaceHolder


def get_package_placeholder(string: str) -> type:
    """As :func:`get_placeholder`, and every attribute of the class raises
    too (a stand-in for a whole package)."""

    class PlaceHolderMeta(type):

        def __getattr__(cls, name: str) -> Any:
            _missing(string)

    class PlaceHolder(metaclass=PlaceHolderMeta):

        def __init__(self, *args, **kwargs) -> None:
            _missing(string)

    return PlaceHolder
