# Copyright (c) OpenMMLab. All rights reserved.
"""Fixtures of the ``tools/`` tests: fake-data configs and script runs.

The scripts run as subprocesses from the repository root (the SPOS subnet
config names its subnet yaml relative to it) on configs derived from the
SPOS configs with :func:`mmrazor.testing.use_fake_data`: 64x64 random
images, 2 iterations.
"""
import importlib.util
import json
import os
import os.path as osp
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional

import pytest
from mmengine.config import Config

from mmrazor.testing import use_fake_data

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / 'tools'
SPOS_DIR = ROOT / 'configs' / 'nas' / 'mmcls' / 'spos'
SUPERNET_CFG = SPOS_DIR / 'spos_shufflenet_supernet_8xb128_in1k.py'
SUBNET_CFG = SPOS_DIR / 'spos_shufflenet_subnet_8xb128_in1k.py'

# Generous: a run takes about 15 s on 2 cores; a hang should still fail.
RUN_TIMEOUT = 300


def tool_env(**extra: str) -> Dict[str, str]:
    """Environment of a script run.

    The repository is put first on ``PYTHONPATH`` and ``sys.executable``'s
    folder first on ``PATH`` (the ``.sh`` launchers call ``python``); the
    torch escape hatch ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is removed, so
    checkpoints load through mmrazor's safe loader.

    Args:
        **extra (str): Variables to set on top.

    Returns:
        dict: The environment.
    """
    env = dict(os.environ)
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(ROOT), env.get('PYTHONPATH')) if p)
    env['PATH'] = os.pathsep.join(
        (osp.dirname(sys.executable), env.get('PATH', '')))
    env['PYTHON'] = sys.executable
    env.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    env.update(extra)
    return env


def run_tool(args: List[str],
             env: Optional[Dict[str, str]] = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run ``args`` from the repository root and capture its output.

    A ``.py`` first argument runs with ``sys.executable``; a ``.sh`` one
    runs as is (it must be executable).

    Args:
        args (list[str]): Script path and its arguments.
        env (dict, optional): Environment. Defaults to :func:`tool_env`.
        check (bool): Whether to fail the test, showing the end of the
            output, if the script exits non-zero. Defaults to True.

    Returns:
        subprocess.CompletedProcess: The finished run; ``stdout`` holds
        stdout and stderr together.
    """
    args = [str(a) for a in args]
    if args[0].endswith('.py'):
        args = [sys.executable, *args]
    proc = subprocess.run(
        args,
        cwd=ROOT,
        env=tool_env() if env is None else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=RUN_TIMEOUT)
    if check and proc.returncode != 0:
        pytest.fail(f'{" ".join(args)} exited with {proc.returncode}:\n'
                    f'{proc.stdout[-6000:]}')
    return proc


def write_fake_config(base: Path, path: Path, work_dir: Path,
                      **kwargs) -> Path:
    """Write ``base`` rewritten by ``use_fake_data`` to ``path``.

    Args:
        base (Path): The config to derive from.
        path (Path): Where to write the ``.py`` config.
        work_dir (Path): Its ``work_dir``.
        **kwargs: Passed to :func:`mmrazor.testing.use_fake_data`;
            ``image_size`` defaults to 64.

    Returns:
        Path: ``path``.
    """
    kwargs.setdefault('image_size', 64)
    cfg = use_fake_data(
        Config.fromfile(str(base)), str(work_dir), **kwargs)
    cfg.custom_imports = dict(
        imports=['mmrazor.testing'], allow_failed_imports=False)
    cfg.dump(str(path))
    return path


class Run(NamedTuple):
    """The outcome of one training run."""
    config: Path
    work_dir: Path
    checkpoint: Path
    output: str


def run_dirs(work_dir: Path) -> List[Path]:
    """The timestamped run folders of ``work_dir``, oldest first."""
    return sorted(p for p in work_dir.iterdir()
                  if p.is_dir() and p.name[:8].isdigit())


def read_scalars(run_dir: Path) -> List[dict]:
    """The records of a run's ``vis_data/scalars.json``."""
    text = (run_dir / 'vis_data' / 'scalars.json').read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_log(run_dir: Path) -> str:
    """The text of a run's log file."""
    return (run_dir / f'{run_dir.name}.log').read_text()


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a fake-data config derived from a config into ``tmp_path``.

    Call it as ``fake_config(base=SUPERNET_CFG, name='cfg', **kwargs)``;
    the work dir is ``tmp_path / 'work_<name>'``.
    """

    def write(base: Path = SUPERNET_CFG, name: str = 'cfg', **kwargs):
        return write_fake_config(base, tmp_path / f'{name}.py',
                                 tmp_path / f'work_{name}', **kwargs)

    return write


@pytest.fixture(scope='session')
def supernet_run(tmp_path_factory) -> Run:
    """The SPOS supernet trained 2 iterations by ``tools/train.py``.

    Shared by the tests that need its checkpoint; tests that train on
    (resume) must do so in their own copy or accept later iterations.
    """
    tmp = tmp_path_factory.mktemp('supernet')
    work_dir = tmp / 'work'
    config = write_fake_config(SUPERNET_CFG, tmp / 'supernet.py', work_dir)
    proc = run_tool([TOOLS / 'train.py', config, '--work-dir', work_dir])
    return Run(config, work_dir, work_dir / 'iter_2.pth', proc.stdout)


@pytest.fixture(scope='session')
def load_tool():
    """Import a ``tools/`` script as a module (for its argument checks)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))

    def load(name: str):
        if name == 'runner_utils':  # the module the scripts import
            return importlib.import_module(name)
        # A unique name: ``test`` would clash with the standard library.
        spec = importlib.util.spec_from_file_location(
            f'mmrazor_tools_{name}', TOOLS / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
