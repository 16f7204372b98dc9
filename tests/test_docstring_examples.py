# Copyright (c) OpenMMLab. All rights reserved.
"""Every ``>>>`` example in the package's docstrings runs and prints what
it shows (``doctest``, with ``...`` and free white space allowed)."""
import doctest
import importlib
import os.path as osp
import pkgutil

import pytest
from mmengine.registry import DefaultScope

import mmrazor

PACKAGE_DIR = osp.dirname(mmrazor.__file__)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture
def no_default_scope():
    """Run the examples as a user's script would: with no default scope
    (a test before may have left one; the autouse fixture of conftest.py
    restores the saved ones afterwards)."""
    DefaultScope._instance_dict.clear()
    yield


def _modules_with_examples() -> list:
    names = []
    for info in pkgutil.walk_packages([PACKAGE_DIR], prefix='mmrazor.'):
        path = osp.join(PACKAGE_DIR, *info.name.split('.')[1:])
        path = osp.join(path, '__init__.py') if info.ispkg else path + '.py'
        if not osp.isfile(path):
            continue
        with open(path, encoding='utf-8') as f:
            if '>>> ' in f.read():
                names.append(info.name)
    return sorted(names)


MODULES = _modules_with_examples()


def test_examples_are_found():
    # a broken discovery would make every module below pass vacuously
    assert len(MODULES) >= 30, MODULES


@pytest.mark.parametrize('name', MODULES)
def test_docstring_examples(name, no_default_scope):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS, verbose=False)
    failures = []
    attempted = 0
    for test in finder.find(module, name, globs=vars(module).copy()):
        result = runner.run(test, out=failures.append)
        attempted += result.attempted
    assert attempted > 0, f'{name}: no example ran'
    assert not failures, ''.join(failures)
