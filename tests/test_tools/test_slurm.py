# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/slurm_train.sh`` / ``slurm_test.sh`` with a stand-in ``srun`` on
PATH that records its arguments (no Slurm here)."""
import os
import stat

import pytest

from .conftest import TOOLS, run_tool, tool_env

FAKE_SRUN = '''#!/usr/bin/env bash
printf '%s\\n' "$@" > "$SRUN_RECORD"
'''


@pytest.fixture
def srun_env(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(FAKE_SRUN)
    srun.chmod(srun.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / 'srun_args.txt'
    env = tool_env(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
                   SRUN_RECORD=str(record), GPUS='4',
                   SRUN_ARGS='--quotatype=auto -x node1')
    return env, record


@pytest.mark.parametrize('script', ['slurm_train.sh', 'slurm_test.sh'])
def test_scripts_executable(script):
    assert os.access(TOOLS / script, os.X_OK)


def test_slurm_train_arguments(srun_env):
    env, record = srun_env
    run_tool([TOOLS / 'slurm_train.sh', 'part', 'job', 'cfg.py', 'wd',
              '--resume', '--cfg-options', 'a=1'], env=env)
    args = record.read_text().splitlines()
    assert args[:2] == ['-p', 'part']
    for option in ('--job-name=job', '--gres=gpu:4', '--ntasks=4',
                   '--ntasks-per-node=4', '--cpus-per-task=5',
                   '--kill-on-bad-exit=1', '--quotatype=auto', '-x', 'node1'):
        assert option in args
    script = args.index(next(a for a in args if a.endswith('train.py')))
    assert args[script - 1] == '-u'
    assert args[script + 1:] == ['cfg.py', '--work-dir=wd', '--launcher',
                                 'slurm', '--resume', '--cfg-options', 'a=1']


def test_slurm_test_arguments(srun_env):
    env, record = srun_env
    run_tool([TOOLS / 'slurm_test.sh', 'part', 'job', 'cfg.py', 'ck.pth',
              '--out', 'r.pkl'], env=env)
    args = record.read_text().splitlines()
    script = args.index(next(a for a in args if a.endswith('test.py')))
    assert args[script + 1:] == ['cfg.py', 'ck.pth', '--launcher', 'slurm',
                                 '--out', 'r.pkl']


@pytest.mark.parametrize('script', ['slurm_train.sh', 'slurm_test.sh'])
def test_usage_error(script, srun_env):
    env, _ = srun_env
    proc = run_tool([TOOLS / script, 'part', 'job'], env=env, check=False)
    assert proc.returncode == 2 and 'Usage:' in proc.stdout
