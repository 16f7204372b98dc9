# Copyright (c) OpenMMLab. All rights reserved.
"""json / yaml data files read safely, and dicts given inline or as files.

Nothing here uses ``yaml.Loader``, ``mmengine.fileio.load`` or pickle: yaml is
read with a ``yaml.SafeLoader`` that also refuses duplicate keys, json with
:mod:`json`.
"""
import json
import os
import os.path as osp
from typing import Any, Dict, Union

import yaml

DictSource = Union[None, str, os.PathLike, Dict[str, Any]]


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping with a repeated key."""

    def construct_mapping(self, node: yaml.MappingNode,
                          deep: bool = False) -> Dict[Any, Any]:
        seen: Dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # unhashable: SafeLoader reports it.
                break
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None,
                    f'duplicate key {key!r} (first at line '
                    f'{seen[key].line + 1})', key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def read_data_file(path: Union[str, os.PathLike], field: str) -> Any:
    """Read a ``.json`` file with :mod:`json`, anything else as safe yaml.

    Args:
        path: The file.
        field: The argument or option that named the file, for errors.

    Returns:
        The parsed content.

    Raises:
        FileNotFoundError: If the path is not a file.
        ValueError: If the file is not valid json/yaml text (binary, cut
            short, a duplicate key, a python-object tag); the message names
            the file and the field.
    """
    path = osp.expanduser(os.fspath(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'`{field}` file {path!r} not found')
    try:
        with open(path, encoding='utf-8') as f:
            if path.endswith('.json'):
                return json.load(f)
            return yaml.load(f, Loader=_UniqueKeyLoader)  # safe: SafeLoader
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as e:
        kind = 'json' if path.endswith('.json') else 'yaml'
        raise ValueError(
            f'`{field}` file {path!r} is not valid {kind} text: {e}. '
            f'Check that it is the {kind} file mmrazor wrote (a binary '
            'file, one cut short or one with python tags is refused).'
        ) from e


def load_dict(source: DictSource, field: str,
              what: str = '{name: value}') -> Dict[str, Any]:
    """Return ``source`` as a new dict, reading it from a file if a path.

    A path is read with :func:`read_data_file`. ``None`` gives an empty dict.

    Args:
        source (dict | str | PathLike | None): The dict or its file.
        field (str): The argument name, for error messages.
        what (str): What the dict maps, for error messages.

    Returns:
        dict: A shallow copy of the dict.

    Raises:
        FileNotFoundError: If the path is not a file.
        ValueError: If the file is not valid json/yaml.
        TypeError: If the content is not a dict.
    """
    if source is None:
        return {}
    if isinstance(source, (str, os.PathLike)):
        source = read_data_file(source, field)
    if not isinstance(source, dict):
        raise TypeError(f'`{field}` must be a dict {what} or a json/yaml '
                        f'file of one, but got {type(source).__name__}')
    return dict(source)
