# Copyright (c) OpenMMLab. All rights reserved.
"""Shared fixture of the benchmark smoke tests."""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Callable

import pytest

BENCHMARKS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'benchmarks')


def load_benchmark(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` as a module named ``name``.

    Args:
        name (str): The script's file name without ``.py``.

    Returns:
        ModuleType: The loaded script.
    """
    spec = importlib.util.spec_from_file_location(
        name, osp.join(BENCHMARKS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_script() -> Callable[[str], ModuleType]:
    """The loader :func:`load_benchmark`, as a fixture."""
    return load_benchmark
