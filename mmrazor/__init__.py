# Copyright (c) OpenMMLab. All rights reserved.
"""mmrazor: model compression for the OpenMMLab ecosystem.

Importing the package:

- ignores a few third-party warnings a user cannot act on (see
  :mod:`mmrazor.third_party_warnings`);
- checks that the installed mmengine, mmcv and mmcls lie in the supported
  ranges (before any of them is imported, so that the error is ours and not
  an assertion deep inside mmcls);
- makes mmengine's checkpoint loading safe and working on torch >= 2.6 (see
  :mod:`mmrazor.utils.checkpoint`), its local file writes atomic (see
  :mod:`mmrazor.utils.atomic_file`), and refuses checkpoints that fill too
  few of a model's tensors (see :mod:`mmrazor.utils.weights_fit`).
"""
from ._dependency import check_dependencies
from .third_party_warnings import filter_third_party_warnings

filter_third_party_warnings()
check_dependencies()

from mmengine.utils import digit_version  # noqa: E402

from .utils.atomic_file import install_atomic_local_backend  # noqa: E402
from .utils.checkpoint import install_checkpoint_loader  # noqa: E402
from .utils.weights_fit import install_weights_fit_check  # noqa: E402
from .version import __version__, version_info  # noqa: E402

install_checkpoint_loader()
install_atomic_local_backend()
install_weights_fit_check()

__all__ = ['__version__', 'version_info', 'digit_version']
