# Copyright (c) OpenMMLab. All rights reserved.
"""Version of the mmrazor package."""
__version__ = '1.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse ``'1.1.0'`` or ``'1.1.0rc1'`` into a tuple such as ``(1, 1, 0)``.

    Args:
        version_str (str): The version string.

    Returns:
        tuple: The integer parts, followed by the pre-release tag if any.
    """
    parts = []
    for part in version_str.split('.'):
        if part.isdigit():
            parts.append(int(part))
        elif 'rc' in part:
            num, rc = part.split('rc')
            parts.extend([int(num), f'rc{rc}'])
    return tuple(parts)


version_info = parse_version_info(__version__)
