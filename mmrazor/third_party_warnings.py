# Copyright (c) OpenMMLab. All rights reserved.
"""One filter for third-party warnings a user of mmrazor cannot act on.

Every run on this stack printed the same few messages that come from inside
our dependencies and that no user setting changes:

- mmcv-lite has no compiled ops, so importing mmcls makes mmcv warn that
  ``MultiScaleDeformableAttention`` cannot be imported (mmrazor never uses
  it);
- mmengine imports ``pkg_resources``, which setuptools declares deprecated;
- mmengine's own hooks build the deprecated ``FileClient`` and
  ``HardDiskBackend`` and log that they "will be deprecated";
- copying an exported graph (torch.export, used by quantization) makes
  torch's own pytree code warn that ``isinstance(treespec, LeafSpec)`` is
  deprecated.

:func:`filter_third_party_warnings` (called by ``import mmrazor``) ignores
exactly those Python warnings, matched by message and category;
:func:`quiet_third_party_logs` drops the two mmengine log lines from a
runner's logger (``tools/train.py`` and ``tools/test.py`` call it). Nothing
mmrazor itself warns about is matched. The module imports only the standard
library, so that the filter is in place before mmengine and mmcls load.
"""
import logging
import warnings

# (message regex, category) of the Python warnings filtered out.
THIRD_PARTY_WARNINGS = (
    (r'Fail to import ``MultiScaleDeformableAttention``', UserWarning),
    (r'pkg_resources is deprecated as an API', UserWarning),
    (r'pkg_resources is deprecated as an API', DeprecationWarning),
    (r'`isinstance\(treespec, LeafSpec\)` is deprecated', FutureWarning),
)
# Starts of mmengine log messages about its own deprecated internals.
THIRD_PARTY_LOG_LINES = (
    '"FileClient" will be deprecated in future',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


def filter_third_party_warnings() -> None:
    """Ignore the warnings of :data:`THIRD_PARTY_WARNINGS` (idempotent)."""
    for message, category in THIRD_PARTY_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category)


class ThirdPartyLogFilter(logging.Filter):
    """Drops log records that start with :data:`THIRD_PARTY_LOG_LINES`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is kept."""
        message = str(record.msg)
        return not message.startswith(THIRD_PARTY_LOG_LINES)


def quiet_third_party_logs(logger: logging.Logger) -> None:
    """Add :class:`ThirdPartyLogFilter` to ``logger`` once."""
    if not any(isinstance(f, ThirdPartyLogFilter) for f in logger.filters):
        logger.addFilter(ThirdPartyLogFilter())
