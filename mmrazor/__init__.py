# Copyright (c) OpenMMLab. All rights reserved.
"""mmrazor: model compression for the OpenMMLab ecosystem.

Importing the package checks that the installed mmengine, mmcv and mmcls lie
in the supported ranges (before any of them is imported, so that the error is
ours and not an assertion deep inside mmcls), and makes mmengine's checkpoint
loading work on torch >= 2.6 (see :mod:`mmrazor.utils.checkpoint`).
"""
from ._dependency import check_dependencies

check_dependencies()

from .utils.checkpoint import install_checkpoint_loader  # noqa: E402
from .version import __version__, version_info  # noqa: E402

install_checkpoint_loader()

__all__ = ['__version__', 'version_info']
