# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/test.py``: evaluating a SPOS supernet checkpoint."""
import pytest

from .conftest import SUPERNET_CFG, TOOLS, run_tool

TEST = TOOLS / 'test.py'


def test_test_prints_accuracy(supernet_run, tmp_path):
    out = tmp_path / 'predictions.pkl'
    proc = run_tool([
        TEST, supernet_run.config, supernet_run.checkpoint, '--work-dir',
        tmp_path / 'work', '--out', out
    ])
    assert 'Iter(test)' in proc.stdout
    assert 'accuracy/top1:' in proc.stdout
    assert f'Load checkpoint from {supernet_run.checkpoint}' in proc.stdout
    assert out.is_file()


def test_missing_checkpoint(tmp_path):
    missing = tmp_path / 'no_such.pth'
    work_dir = tmp_path / 'work'
    proc = run_tool(
        [TEST, SUPERNET_CFG, missing, '--work-dir', work_dir], check=False)
    assert proc.returncode != 0
    assert 'FileNotFoundError' in proc.stdout
    assert str(missing) in proc.stdout
    assert not work_dir.exists()  # failed before the runner was built


def test_out_suffix(load_tool, tmp_path):
    test_tool = load_tool('test')
    ckpt = tmp_path / 'a.pth'
    ckpt.touch()
    args = test_tool.parse_args(['c.py', str(ckpt), '--out', 'res.json'])
    with pytest.raises(ValueError, match="'res.json'"):
        test_tool.check_args(args)
