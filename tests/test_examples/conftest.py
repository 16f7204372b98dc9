# Copyright (c) OpenMMLab. All rights reserved.
"""Fixtures of the example and documentation tests.

Configs and snippets run in fresh Python processes, so that nothing the test
session imported (mmrazor, the example's modules) helps them along: what
they need, they must import themselves, as a user's process would.
"""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A run takes about 10-20 s on 2 busy cores; a hang should still fail.
RUN_TIMEOUT = 300
# The subprocess prints its result as one JSON line after this marker.
RESULT_MARK = 'RESULT_JSON='


def python_env() -> Dict[str, str]:
    """Environment of a subprocess: the repository first on PYTHONPATH.

    The torch escape hatch ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is removed,
    so checkpoints load through mmrazor's own loader as they would for a
    user who never set it.
    """
    env = dict(os.environ)
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(ROOT), env.get('PYTHONPATH')) if p)
    env.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    return env


def _run_python(script: str, cwd: Optional[Path] = None) -> Dict:
    """Run ``script`` in a new interpreter and return its JSON result.

    The script reports by printing ``RESULT_JSON=<json>`` on one line.

    Args:
        script (str): Python source.
        cwd (Path, optional): Working directory. Defaults to the repository
            root.

    Returns:
        dict: The reported result.
    """
    proc = subprocess.run([sys.executable, '-c', script],
                          cwd=str(cwd or ROOT),
                          env=python_env(),
                          capture_output=True,
                          text=True,
                          timeout=RUN_TIMEOUT)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f'subprocess exited with {proc.returncode}:\n'
                    f'{output[-6000:]}')
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    pytest.fail(f'subprocess reported no result:\n{output[-6000:]}')


@pytest.fixture
def run_python() -> Callable[..., Dict]:
    """``run_python(script, cwd=None) -> dict``; see :func:`_run_python`."""
    return _run_python
