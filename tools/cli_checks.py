# Copyright (c) OpenMMLab. All rights reserved.
"""Checks ``tools/train.py`` and ``tools/test.py`` run before a ``Runner``.

Each turns a mistake a user makes on the command line into one message that
names it and says what to do, before anything is built or written: a config
path with a typo (with the closest existing paths), ``--cfg-options`` without
``=`` or with a key the config does not have (with the closest key), a
missing checkpoint, and a data set that is not where the config says (with
the files it looked for and the command that checks the config on fake
data).
"""
import argparse
import difflib
import glob
import os.path as osp
from typing import Any, Dict, Iterator, List, Optional, Tuple

from mmengine.config import Config, DictAction

from mmrazor.utils._mmengine_compat import config_dict

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

FAKE_DATA_HINT = ('To check that the config builds and trains without the '
                  'data, add --fake-data (2 iterations on random images).')


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` that reports ``key value`` (no ``=``)."""

    def __call__(self, parser: argparse.ArgumentParser,
                 namespace: argparse.Namespace, values: Any,
                 option_string: Optional[str] = None) -> None:
        bad = [v for v in values if '=' not in v]
        if bad:
            joined = ' '.join(values)
            parser.error(
                f'{option_string} expects key=value pairs without spaces '
                f'around "=", but got {bad[0]!r} in {joined!r}; e.g. '
                '--cfg-options train_cfg.max_epochs=1')
        super().__call__(parser, namespace, values, option_string)


def config_path(path: str) -> str:
    """Return ``path`` if it is a file; else raise naming close matches.

    Raises:
        FileNotFoundError: With the closest config paths under the given
            folder (or under ``configs/``).
    """
    if osp.isfile(path):
        return path
    folder = osp.dirname(path)
    search_root = folder if osp.isdir(folder) else osp.join(ROOT, 'configs')
    candidates = glob.glob(osp.join(search_root, '**', '*.py'),
                           recursive=True)
    by_name: Dict[str, List[str]] = {}
    for candidate in candidates:
        by_name.setdefault(osp.basename(candidate), []).append(candidate)
    close = difflib.get_close_matches(
        osp.basename(path), list(by_name), n=3, cutoff=0.6)
    shown = [osp.relpath(p) for name in close for p in by_name[name]][:3]
    hint = (f' Did you mean: {", ".join(shown)}?' if shown else
            f' No config with a similar name under {search_root!r}.')
    raise FileNotFoundError(f'Config file {path!r} does not exist.{hint}')


def _child(node: Any, key: str) -> Tuple[bool, Any, List[str]]:
    """``(found, value, existing keys)`` of ``key`` in ``node``."""
    if isinstance(node, dict):
        return key in node, node.get(key), [str(k) for k in node]
    if isinstance(node, (list, tuple)) and key.isdigit():
        index = int(key)
        return index < len(node), node[index] if index < len(node) else \
            None, [str(i) for i in range(len(node))]
    return False, None, []


def check_cfg_options(cfg: Config, options: Optional[Dict[str, Any]],
                      allow_new_keys: bool) -> None:
    """Raise if a ``--cfg-options`` key looks like a typo of an existing one.

    A key part that is missing from the config is refused when an existing
    key at the same level is close to it (``optim_wraper`` for
    ``optim_wrapper``); other new keys are allowed.

    Args:
        cfg: The config before the options are merged.
        options: The parsed ``--cfg-options``.
        allow_new_keys: Skip the check (``--allow-new-keys``).

    Raises:
        KeyError: Naming the key, the part that does not exist and the
            closest existing keys at that level.
    """
    if not options or allow_new_keys:
        return
    for full_key in options:
        node: Any = config_dict(cfg)
        parts = full_key.split('.')
        for depth, part in enumerate(parts):
            found, value, existing = _child(node, part)
            if found:
                node = value
                continue
            # A new key is allowed unless it looks like a typo of one that
            # exists at the same level.
            close = difflib.get_close_matches(part, existing, n=3, cutoff=0.8)
            if close:
                where = '.'.join(parts[:depth]) or 'the config'
                raise KeyError(
                    f'--cfg-options {full_key!r}: {where} has no key '
                    f'{part!r}. Did you mean '
                    f'{", ".join(repr(c) for c in close)}? Pass '
                    '--allow-new-keys to add it anyway.')
            break


def _datasets(cfg: Any, where: str) -> Iterator[Tuple[str, Dict]]:
    """Yield ``(where, dataset cfg)`` of a dataset cfg and its wrapped ones."""
    if not isinstance(cfg, dict):
        return
    yield where, cfg
    if isinstance(cfg.get('dataset'), dict):
        yield from _datasets(cfg['dataset'], f'{where}.dataset')
    for i, sub in enumerate(cfg.get('datasets') or []):
        yield from _datasets(sub, f'{where}.datasets.{i}')


def _dataloaders(cfg: Config) -> Iterator[Tuple[str, Dict]]:
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if isinstance(loader, dict):
            yield f'{split}_dataloader', loader
    for loop in ('train_cfg', 'val_cfg', 'test_cfg'):
        loop_cfg = cfg.get(loop) or {}
        for key in ('dataloader', 'calibrate_dataloader'):
            if isinstance(loop_cfg.get(key), dict):
                yield f'{loop}.{key}', loop_cfg[key]


def missing_data(cfg: Config, splits: Tuple[str, ...]) -> List[str]:
    """Local data roots and annotation files the config names but lacks.

    Args:
        cfg: The merged config.
        splits: Dataloader name prefixes to check, e.g. ``('train', 'val')``
            (search loops' dataloaders count as ``train``).

    Returns:
        ``['train_dataloader.dataset: data/imagenet/meta/train.txt', ...]``
    """
    missing = []
    for name, loader in _dataloaders(cfg):
        if not name.startswith(splits):
            continue
        for where, dataset in _datasets(loader.get('dataset'),
                                        f'{name}.dataset'):
            root = dataset.get('data_root') or ''
            ann = dataset.get('ann_file') or ''
            if '://' in f'{root}{ann}':
                continue
            if root and not osp.isdir(root):
                missing.append(f'{where}: data_root {root!r}')
            elif ann and not osp.isfile(osp.join(root, ann)):
                missing.append(
                    f'{where}: ann_file {osp.join(root, ann)!r}')
    return missing


def check_data(cfg: Config, splits: Tuple[str, ...]) -> None:
    """Raise if the data the config reads is not there.

    Raises:
        FileNotFoundError: Listing what is missing, the layout mmcls's
            ImageNet expects and the fake-data check.
    """
    missing = missing_data(cfg, splits)
    if not missing:
        return
    raise FileNotFoundError(
        'The data this config reads is not there:\n  ' + '\n  '.join(missing)
        + '\nPut the data set there (for mmcls\'s ImageNet: '
        '<data_root>/train/<class>/*.JPEG, <data_root>/val/*.JPEG, '
        '<data_root>/meta/train.txt and meta/val.txt with "path label" '
        'lines), or point data_root/ann_file at it with --cfg-options. '
        + FAKE_DATA_HINT)


def check_load_from(cfg: Config) -> None:
    """Raise if ``cfg.load_from`` is a local path that is not a file."""
    path = cfg.get('load_from')
    if path and '://' not in str(path) and not osp.isfile(
            osp.expanduser(str(path))):
        raise FileNotFoundError(
            f'load_from checkpoint {path!r} does not exist. For a search or '
            'a subnet config, give the trained checkpoint with --cfg-options '
            'load_from=PATH (or train it first).')
