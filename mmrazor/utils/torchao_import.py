# Copyright (c) OpenMMLab. All rights reserved.
"""Import torchao's PT2E quantization quietly, or say which extra to install.

torchao is an optional dependency (the ``quant`` extra). Importing it logs
two warnings a user cannot act on: its CUDA-only ``.so`` files fail to load
on CPU machines, and torch warns about one of its pytree registrations. This
module imports it with ``TORCHAO_FORCE_SKIP_LOADING_SO_FILES=1`` as a default
(an explicit value in the environment wins) and those two loggers raised to
``ERROR`` for the duration of the import.
"""
import importlib.util
import logging
import os
from types import ModuleType

#: How to install what mmrazor's quantization needs.
QUANT_INSTALL_HINT = ('pip install "mmrazor[quant]" (or: pip install '
                      'torchao==0.18.0, next to torch 2.13.0)')

_QUIET_LOGGERS = ('torchao', 'torch.utils._pytree')


def torchao_available() -> bool:
    """Return whether torchao is installed (without importing it)."""
    try:
        return importlib.util.find_spec('torchao') is not None
    except (ImportError, ValueError):
        return False


def import_pt2e() -> ModuleType:
    """Import and return ``torchao.quantization.pt2e``.

    Returns:
        module: ``torchao.quantization.pt2e``.

    Raises:
        ImportError: If torchao is missing, naming the extra to install.
    """
    os.environ.setdefault('TORCHAO_FORCE_SKIP_LOADING_SO_FILES', '1')
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        import torchao.quantization.pt2e as pt2e
    except ImportError as e:
        raise ImportError(
            f'mmrazor quantization needs torchao ({e}). Install it with: '
            f'{QUANT_INSTALL_HINT}') from e
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
    return pt2e
