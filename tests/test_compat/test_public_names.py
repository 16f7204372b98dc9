# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor 1.0's public names, checked against this package.

``tests/data/original_public_names.json`` lists, per package of the
original, the names of its ``__all__``. Each one either imports from the
same module path here, or has a row in the public-name table of
``docs/en/notes/compatibility.md`` saying what replaces it or why it is not
provided. Run this file as a script to print the figure and the missing
names::

    python tests/test_compat/test_public_names.py
"""
import importlib
import json
import os.path as osp
import re
from typing import Dict, List, Tuple

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NAMES_FILE = osp.join(REPO_ROOT, 'tests', 'data', 'original_public_names.json')
DOC_FILE = osp.join(REPO_ROOT, 'docs', 'en', 'notes', 'compatibility.md')
TABLE_TITLE = '## Public names'
# Issue 10 asks for 95%; the floor below is what imports today (376/440),
# so that no name is lost; test_share_reaches_the_target records the gap.
TARGET_SHARE = 0.95
MIN_SHARE = 376 / 440


def original_names() -> Dict[str, List[str]]:
    """``{module path: [names of its __all__]}`` of the original."""
    with open(NAMES_FILE, encoding='utf-8') as f:
        return json.load(f)['modules']


def check_names() -> Tuple[int, List[Tuple[str, str]]]:
    """Import every original name from its module path here.

    Returns:
        tuple: The number of names that import, and the
        ``(module, name)`` pairs that do not.
    """
    found, missing = 0, []
    for module_name, names in original_names().items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.extend((module_name, name) for name in names)
            continue
        for name in names:
            if hasattr(module, name):
                found += 1
            else:
                missing.append((module_name, name))
    return found, missing


def table_rows() -> Dict[str, Tuple[str, str]]:
    """``{name: (original modules cell, here cell)}`` of the doc's table."""
    with open(DOC_FILE, encoding='utf-8') as f:
        text = f.read()
    if TABLE_TITLE not in text:
        raise AssertionError(f'{DOC_FILE} has no {TABLE_TITLE!r} section')
    section = text.split(TABLE_TITLE, 1)[1].split('\n## ', 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r'\| `([^`]+)` \| (.*?) \| (.*) \|$', line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


@pytest.fixture(scope='module')
def checked():
    return check_names()


def test_share_of_original_names_importable(checked):
    found, missing = checked
    total = found + len(missing)
    assert total == 440
    assert found / total >= MIN_SHARE, (
        f'{found}/{total} original names import from the same path; '
        f'missing: {missing}')


@pytest.mark.xfail(strict=True, reason='376/440 (85.5%) import today; '
                   'the rest need DMCP, the FX quantization API or '
                   'detection distillation (see the compatibility table)')
def test_share_reaches_the_target(checked):
    found, missing = checked
    assert found / (found + len(missing)) >= TARGET_SHARE


def test_every_original_name_has_a_row(checked):
    rows = table_rows()
    names = {n for names in original_names().values() for n in names}
    assert sorted(names - set(rows)) == []
    assert sorted(set(rows) - names) == []


def test_missing_names_say_why(checked):
    rows = table_rows()
    for module_name, name in checked[1]:
        modules, here = rows[name]
        assert f'`{module_name}`' in modules, (name, module_name)
        assert re.match(r'(replaced|not provided)\b', here), (
            f'{module_name}.{name} does not import here; its row must say '
            f'"replaced by ..." or "not provided: ...", not {here!r}')


def test_importable_names_are_not_called_missing(checked):
    rows = table_rows()
    missing_names = {name for _, name in checked[1]}
    for name, (_, here) in rows.items():
        if name not in missing_names:
            assert not here.startswith(('replaced', 'not provided')), name


if __name__ == '__main__':
    found, missing = check_names()
    total = found + len(missing)
    print(f'{found}/{total} ({100 * found / total:.1f}%) original public '
          'names import from the same module path')
    for module_name, name in missing:
        print(f'  {module_name}.{name}')
