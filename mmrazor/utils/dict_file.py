# Copyright (c) OpenMMLab. All rights reserved.
"""Dicts given inline or as json / yaml files (read safely)."""
import json
import os
import os.path as osp
from typing import Any, Dict, Union

DictSource = Union[None, str, os.PathLike, Dict[str, Any]]


def load_dict(source: DictSource, field: str,
              what: str = '{name: value}') -> Dict[str, Any]:
    """Return ``source`` as a new dict, reading it from a file if a path.

    A ``.json`` file is read with ``json.load``, anything else with
    ``yaml.safe_load``. ``None`` gives an empty dict.

    Args:
        source (dict | str | PathLike | None): The dict or its file.
        field (str): The argument name, for error messages.
        what (str): What the dict maps, for error messages.

    Returns:
        dict: A shallow copy of the dict.

    Raises:
        FileNotFoundError: If the path is not a file.
        TypeError: If the content is not a dict.
    """
    if source is None:
        return {}
    if isinstance(source, (str, os.PathLike)):
        import yaml
        path = os.fspath(source)
        if not osp.isfile(path):
            raise FileNotFoundError(f'`{field}` file {path!r} not found')
        with open(path) as f:
            source = json.load(f) if path.endswith('.json') else \
                yaml.safe_load(f)
    if not isinstance(source, dict):
        raise TypeError(f'`{field}` must be a dict {what} or a json/yaml '
                        f'file of one, but got {type(source).__name__}')
    return dict(source)
