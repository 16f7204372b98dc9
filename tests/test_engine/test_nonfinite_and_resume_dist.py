# Copyright (c) OpenMMLab. All rights reserved.
"""Under DDP (2 CPU processes, gloo): a NaN image on one rank stops both
ranks, or is skipped by both; a resumed run equals an uninterrupted one."""
import pytest
import torch

from mmrazor.utils.checkpoint import load_from_local

from ..test_tools.conftest import TOOLS, free_port, run_tool, tool_env
from .test_nonfinite_loss_hook import run_cfg, spos_model

pytestmark = pytest.mark.slow


def dist_train(cfg, tmp_path, name, *args, check=True):
    """Run ``cfg`` with tools/dist_train.sh on 2 processes."""
    # Each rank samples its own subnets and augmentations (diff_rank_seed):
    # each must get its own random states back when resuming.
    cfg.randomness = dict(seed=0, diff_rank_seed=True)
    cfg.find_unused_parameters = True
    cfg.env_cfg = dict(dist_cfg=dict(backend='gloo', timeout=120))
    path = tmp_path / f'{name}.py'
    cfg.dump(str(path))
    return run_tool(
        [TOOLS / 'dist_train.sh', path, 2, *args],
        env=tool_env(PORT=str(free_port())), check=check)


def test_nan_on_one_rank_stops_both(tmp_path):
    # rank 1 reads images 1, 3, 5, 7: image 5 is in its first iteration
    cfg = run_cfg(tmp_path / 'work', spos_model(), poisoned=(5, ))
    proc = dist_train(cfg, tmp_path, 'stop', check=False)
    assert proc.returncode != 0
    assert 'Non-finite loss at iteration 1 (epoch 1): loss=nan' in \
        proc.stdout
    assert "on another rank (this rank's losses are finite)" in proc.stdout
    assert not list((tmp_path / 'work').glob('*.pth'))


def test_skip_and_resume_exactly(tmp_path):
    hooks = [dict(type='mmrazor.NonFiniteLossHook', action='skip')]

    def cfg(name, epochs):
        return run_cfg(tmp_path / name, spos_model(), poisoned=(5, ),
                       custom_hooks=hooks, max_epochs=epochs)

    proc = dist_train(cfg('full', 2), tmp_path, 'full')
    assert proc.stdout.count('The batch is skipped') >= 4  # 2 ranks x 2
    dist_train(cfg('part', 1), tmp_path, 'part')
    dist_train(cfg('resumed', 2), tmp_path, 'resumed', '--resume',
               str(tmp_path / 'part' / 'epoch_1.pth'))
    full = load_from_local(str(tmp_path / 'full' / 'epoch_2.pth'))
    resumed = load_from_local(str(tmp_path / 'resumed' / 'epoch_2.pth'))
    assert len(full['random_state']['states']) == 2
    for key, value in full['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key
        if value.is_floating_point():
            assert bool(torch.isfinite(value).all()), key
