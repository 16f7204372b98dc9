# Copyright (c) OpenMMLab. All rights reserved.
"""Checks of the versions of the packages mmrazor is built on.

It imports none of mmengine, mmcv and mmcls: it runs before them.
"""
from importlib import metadata
from typing import Dict, Optional, Tuple

from packaging.version import Version

# package name -> (distributions that provide it, minimum, exclusive maximum)
SUPPORTED: Dict[str, Tuple[Tuple[str, ...], str, str]] = {
    'mmengine': (('mmengine', 'mmengine-lite'), '0.10.0', '0.11.0'),
    'mmcv': (('mmcv', 'mmcv-lite'), '2.0.0rc4', '2.1.0'),
    'mmcls': (('mmcls', ), '1.0.0rc6', '1.1.0'),
}


def _installed_version(distributions: Tuple[str, ...]) -> Optional[str]:
    """Return the version of the first installed distribution, or None."""
    for dist in distributions:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def check_dependencies() -> None:
    """Raise if mmengine, mmcv or mmcls is missing or outside its range.

    The versions are read from the installed distributions' metadata, without
    importing the packages.

    Raises:
        ImportError: Naming the package, the version found and the supported
            range, with the pip command that installs a supported one.
    """
    for package, (dists, low, high) in SUPPORTED.items():
        found = _installed_version(dists)
        wanted = f'>={low},<{high}'
        install = f'pip install "{dists[-1]}{wanted}"'
        if found is None:
            raise ImportError(
                f'mmrazor needs {package} {wanted}, but it is not installed. '
                f'Install it with: {install}')
        if not Version(low) <= Version(found) < Version(high):
            raise ImportError(
                f'mmrazor supports {package} {wanted}, but {package}=={found} '
                f'is installed. Install a supported version with: {install}')
