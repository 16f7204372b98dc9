# Copyright (c) OpenMMLab. All rights reserved.
"""openmim finds mmrazor's package data: ``mim search mmrazor`` lists the
metafiles, ``mim train mmrazor`` runs ``tools/train.py`` from
``mmrazor/.mim`` on a config whose base is an ``mmrazor::`` path."""
import importlib.util
import os.path as osp
import subprocess
import sys

import pytest

from .conftest import RUN_TIMEOUT, tool_env

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec('mim') is None,
    reason='openmim is not installed (tests extra)')


def mim(*args: str, cwd: str) -> str:
    """Run ``mim`` with this interpreter; return its output."""
    result = subprocess.run(
        [sys.executable, '-m', 'mim', *args], cwd=cwd, env=tool_env(),
        capture_output=True, text=True, timeout=RUN_TIMEOUT)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def test_mim_search_lists_the_configs(tmp_path):
    out = mim('search', 'mmrazor', '--model', 'spos', cwd=str(tmp_path))
    assert 'spos_shufflenet_supernet_8xb128_in1k' in out
    assert 'configs/nas/mmcls/spos/' in out


@pytest.mark.slow
def test_mim_train_runs_the_packaged_train_script(tmp_path):
    cfg = tmp_path / 'spos_digits_one_epoch.py'
    cfg.write_text(
        "_base_ = ['mmrazor::nas/mmcls/spos/demo/"
        "spos_shufflenet_supernet_digits.py']\n"
        'train_cfg = dict(max_epochs=1, val_interval=1)\n'
        'train_dataloader = dict(dataset=dict(indices=64))\n'
        'val_dataloader = dict(dataset=dict(indices=64))\n')
    work_dir = tmp_path / 'work'
    out = mim('train', 'mmrazor', str(cfg), '--work-dir', str(work_dir),
              cwd=str(tmp_path))
    assert osp.join('.mim', 'tools', 'train.py') in out
    assert (work_dir / 'epoch_1.pth').is_file()
