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


def test_checkpoint_of_another_model_refused(supernet_run, tmp_path):
    import torch

    from mmrazor.utils.checkpoint import load_from_local
    state = load_from_local(str(supernet_run.checkpoint))['state_dict']
    foreign = tmp_path / 'foreign.pth'
    # The classifier's weights without the algorithm's prefix.
    torch.save({'state_dict': {
        k[len('architecture.'):]: v for k, v in state.items()}}, foreign)
    proc = run_tool([TEST, supernet_run.config, foreign, '--work-dir',
                     tmp_path / 'work'], check=False)
    assert proc.returncode != 0
    assert 'fills only 0 of the' in proc.stdout
    assert "keys under 'architecture.'" in proc.stdout
    assert 'accuracy/top1:' not in proc.stdout
