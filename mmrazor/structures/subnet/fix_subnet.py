# Copyright (c) OpenMMLab. All rights reserved.
"""Subnet files: read, write, export from and apply to a supernet.

A subnet is a dict ``{mutable_name: {'chosen': choice}}``, stored as yaml in
the format of the original MMRazor model zoo, for instance::

    backbone.layers.0.0:
      chosen: shuffle_7x7

This module depends only on the mutable *contract* (``dump_chosen``,
``fix_chosen``, ``choices``, ``is_fixed``, ``alias``), not on the mutable
classes, so the data layer does not import the model layer.
"""
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Union

import torch.nn as nn
from mmengine.config import Config, ConfigDict

from mmrazor.utils.atomic_file import atomic_dump_yaml
from mmrazor.utils.dict_file import read_data_file
from mmrazor.utils.typing import DumpChosen

SubnetType = Dict[str, Dict[str, Any]]
SubnetSource = Union[str, os.PathLike, Dict, Config, ConfigDict]

_CONTRACT = ('dump_chosen', 'fix_chosen', 'choices', 'is_fixed')


def is_mutable(module: nn.Module) -> bool:
    """Whether ``module`` honours the mutable contract of ``BaseMutable``."""
    return all(hasattr(module, attr) for attr in _CONTRACT)


def _mutables(model: nn.Module) -> Dict[str, nn.Module]:
    return {n: m for n, m in model.named_modules() if is_mutable(m)}


def _derived_names(model: nn.Module) -> set:
    """Names and aliases of the derived values of ``model``: modules with a
    ``current_choice`` that follow other mutables and are not searched."""
    names = set()
    # every name: a derived value is often held by several modules
    for name, module in model.named_modules(remove_duplicate=False):
        if is_mutable(module) or \
                not hasattr(type(module), 'current_choice'):
            continue
        names.add(name)
        alias = getattr(module, 'alias', None)
        if isinstance(alias, str):
            names.add(alias)
    return names


def load_subnet_dict(subnet: SubnetSource) -> SubnetType:
    """Read a subnet from a yaml file or a dict and check its format.

    Args:
        subnet (str | PathLike | dict | Config): Path of a yaml file (read
            with a safe yaml loader that refuses duplicate keys) or the
            subnet itself.

    Returns:
        dict: ``{mutable_name: {'chosen': choice, ...}}`` (a new dict).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If an entry is not a dict with a ``chosen`` key.
    """
    if isinstance(subnet, (str, os.PathLike)):
        path = osp.expanduser(os.fspath(subnet))
        if not osp.isfile(path):
            raise FileNotFoundError(f'Subnet file {path!r} does not exist')
        loaded = read_data_file(path, 'subnet')
        source = f'subnet file {path!r}'
    elif isinstance(subnet, (Config, ConfigDict)):
        loaded = subnet.to_dict()
        source = 'subnet dict'
    elif isinstance(subnet, dict):
        loaded = subnet
        source = 'subnet dict'
    else:
        raise TypeError('A subnet must be a yaml path or a dict, but got '
                        f'{type(subnet)}')
    if not isinstance(loaded, dict):
        raise ValueError(f'The {source} must map mutable names to '
                         f"{{'chosen': ...}}, but it holds {loaded!r}")
    result: SubnetType = {}
    for name, entry in loaded.items():
        if not isinstance(entry, dict) or 'chosen' not in entry:
            raise ValueError(
                f'The {source} entry {name!r} must be a dict with a '
                f"'chosen' key, e.g. {{'chosen': 'shuffle_3x3'}}, but it is "
                f'{entry!r}')
        result[str(name)] = dict(entry)
    return result


def save_subnet_file(subnet: SubnetType,
                     path: Union[str, os.PathLike],
                     overwrite: bool = False) -> str:
    """Write a subnet to a yaml file readable with ``yaml.safe_load``.

    The file is written atomically (a temporary file in the same folder,
    then a rename), so a failed write never leaves a truncated subnet.

    Args:
        subnet (dict): ``{mutable_name: {'chosen': choice}}``.
        path (str | PathLike): Where to write; parent folders are created.
        overwrite (bool): Whether an existing file may be replaced. Defaults
            to False, so that no subnet a user had is silently lost.

    Returns:
        str: The path written.
    """
    path = os.fspath(path)
    if osp.exists(path) and not overwrite:
        raise FileExistsError(
            f'Subnet file {path!r} already exists; pass overwrite=True to '
            'replace it, or choose another path')
    subnet = load_subnet_dict(subnet)
    return atomic_dump_yaml(subnet, path, overwrite=overwrite,
                            what='Subnet file')


def convert_fix_subnet(fix_subnet: Dict[str, Any]) -> Dict[str, Dict]:
    """``{name: DumpChosen}`` (what ``dump_chosen`` gives) to the
    ``{name: {'chosen': choice}}`` a subnet file holds (the original
    MMRazor's helper); plain choices are wrapped the same way."""
    return {
        name: dict(chosen=value.chosen if isinstance(value, DumpChosen) else
                   value)
        for name, value in fix_subnet.items()
    }


def export_fix_subnet(model: nn.Module,
                      with_meta: bool = False) -> SubnetType:
    """Return the current choice of every mutable of ``model``.

    Args:
        model (nn.Module): A supernet (or a model with fixed mutables).
        with_meta (bool): Whether to add each mutable's ``meta`` (such as all
            its choices) next to ``chosen``. Defaults to False, the format of
            the model zoo's files.

    Returns:
        dict: ``{mutable_name: {'chosen': choice}}``; names are relative to
        ``model``.
    """
    subnet: SubnetType = {}
    for name, mutable in _mutables(model).items():
        dumped = mutable.dump_chosen()
        entry: Dict[str, Any] = {'chosen': dumped.chosen}
        if with_meta and dumped.meta:
            entry['meta'] = dumped.meta
        subnet[name] = entry
    return subnet


def _strip_prefix(name: str, prefix: str) -> str:
    """Remove ``prefix`` from the start of ``name`` if it starts with it."""
    if prefix and name.startswith(prefix):
        return name[len(prefix):]
    return name


def _short_list(names: List[str], limit: int = 8) -> str:
    shown = ', '.join(repr(n) for n in names[:limit])
    more = f' and {len(names) - limit} more' if len(names) > limit else ''
    return f'[{shown}{more}]'


def load_fix_subnet(model: nn.Module,
                    subnet: SubnetSource,
                    prefix: str = '',
                    extra_prefix: str = '') -> None:
    """Fix every mutable of ``model`` to the choice a subnet gives.

    An entry applies to the mutable with that name or, failing that, to the
    mutables with that ``alias``. Every searchable mutable of the model must
    receive a choice, and every entry must apply to a mutable, except
    entries naming (or aliasing) a derived value, such as the hidden width
    of a block: it follows the mutables it derives from, so its entry is
    accepted and not applied (MMRazor 1.0's Autoformer and OFA files list
    them, some with values that do not match their sources).

    Args:
        model (nn.Module): The supernet to fix in place.
        subnet (str | PathLike | dict | Config): A yaml path or a subnet dict.
        prefix (str): Removed from the start of each subnet name that starts
            with it (e.g. ``'architecture.'`` for a file exported from an
            algorithm, applied to its classifier). Defaults to ''.
        extra_prefix (str): The prefix the file's names have and the
            model's names lack, removed from the file's names too, as the
            original MMRazor did (e.g. ``'backbone.'`` to fix a backbone
            built alone from a classifier's file). Defaults to ''.

    Raises:
        KeyError: If an entry names no mutable of the model, or a mutable
            gets no choice.
        ValueError: If a choice is not one of the mutable's choices.
    """
    entries: SubnetType = {}
    for name, entry in load_subnet_dict(subnet).items():
        key = _strip_prefix(_strip_prefix(name, prefix), extra_prefix)
        if key in entries:
            raise ValueError(
                f'Subnet names collide after prefix={prefix!r} and '
                f'extra_prefix={extra_prefix!r} are applied: two entries '
                f'become {key!r}')
        entries[key] = entry
    mutables = _mutables(model)
    used = set()
    plan = []
    missing = []
    for name, mutable in mutables.items():
        key = name if name in entries else getattr(mutable, 'alias', None)
        if key not in entries:
            if not mutable.is_fixed:
                missing.append(name)
            continue
        chosen = entries[key]['chosen']
        if mutable.is_fixed:
            dumped = mutable.dump_chosen().chosen
            if chosen != dumped:
                raise ValueError(
                    f'Subnet entry {key!r} chooses {chosen!r} for mutable '
                    f'{name!r}, which is already fixed to {dumped!r}')
            used.add(key)
            continue
        _check_chosen(mutable, chosen, key, name)
        used.add(key)
        plan.append((name, mutable, chosen))
    unknown = sorted(set(entries) - used)
    if unknown:
        unknown = sorted(set(unknown) - _derived_names(model))
    if unknown:
        raise KeyError(
            f'The subnet names {_short_list(unknown)}, which the model '
            f'({type(model).__name__}) has no mutable (or alias) for. Its '
            f'mutables are {_short_list(sorted(mutables))}. If the names '
            'carry an extra prefix, pass prefix=..., e.g. '
            "prefix='architecture.'")
    # A mutable inside a planned mutable (a DARTS edge inside a node's
    # route) may be dropped when its parent is fixed: it needs no entry.
    parents = [n + '.' for n, m, _ in plan
               if any(is_mutable(c) for c in m.modules() if c is not m)]
    early = [n for n in missing if not any(n.startswith(p) for p in parents)]
    _raise_missing(early, model)
    for _, mutable, chosen in plan:
        mutable.fix_chosen(chosen)
    if len(early) != len(missing):
        left = {id(m) for m in model.modules()}
        _raise_missing([n for n in missing if id(mutables[n]) in left],
                       model)


def _check_chosen(mutable: nn.Module, chosen: Any, key: str,
                  name: str) -> None:
    """A list choice (several ops or edges) is checked by the mutable."""
    if isinstance(chosen, list) and hasattr(mutable, 'check_choice'):
        try:
            mutable.check_choice(chosen)
            return
        except ValueError as e:
            raise ValueError(f'Subnet entry {key!r} for mutable {name!r}: '
                             f'{e}') from None
    if chosen not in mutable.choices:
        raise ValueError(
            f'Subnet entry {key!r} chooses {chosen!r} for mutable '
            f'{name!r}, which allows only {mutable.choices}')


def _raise_missing(missing: List[str], model: nn.Module) -> None:
    if missing:
        raise KeyError(
            f'The subnet gives no choice for the mutables '
            f'{_short_list(missing)} of {type(model).__name__}; every '
            'searchable mutable needs an entry {name: {chosen: ...}}')


def subnet_to_choices(subnet: SubnetType) -> Dict[str, Any]:
    """Return ``{name: chosen}`` from a subnet dict."""
    return {name: entry['chosen'] for name, entry in subnet.items()}


def choices_to_subnet(choices: Dict[str, Any],
                      meta: Optional[Dict[str, Dict]] = None) -> SubnetType:
    """Return ``{name: {'chosen': choice}}`` from ``{name: choice}``."""
    subnet: SubnetType = {}
    for name, choice in choices.items():
        subnet[name] = {'chosen': choice}
        if meta and name in meta:
            subnet[name]['meta'] = meta[name]
    return subnet
