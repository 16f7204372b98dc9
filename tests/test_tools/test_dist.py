# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/dist_train.sh``: 2 CPU processes with gloo; the CPU checks."""
import os

import pytest
from mmengine.config import Config
from torch import nn

from .conftest import (
    SUPERNET_CFG,
    TOOLS,
    free_port,
    read_log,
    read_scalars,
    run_dirs,
    run_tool,
    tool_env,
)


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh'])
def test_scripts_executable(script):
    assert os.access(TOOLS / script, os.X_OK)


def test_dist_train_gloo(fake_config, tmp_path):
    config = fake_config(SUPERNET_CFG, 'dist')
    work_dir = tmp_path / 'work'
    proc = run_tool(
        [
            TOOLS / 'dist_train.sh', config, 2, '--work-dir', work_dir,
            '--cfg-options', 'env_cfg.dist_cfg.backend=gloo',
            'log_processor.by_epoch=True'
        ],
        env=tool_env(PORT=str(free_port())))
    assert (work_dir / 'iter_2.pth').is_file(), proc.stdout[-3000:]
    (run_dir, ) = run_dirs(work_dir)
    log = read_log(run_dir)
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    # 8 fake images, batch 2: each of the 2 ranks gets 2 batches an epoch.
    assert 'Epoch(train) [1][1/2]' in log
    assert [r['iter'] for r in read_scalars(run_dir) if 'loss' in r] == [1, 2]


class OtherWrapper(nn.Module):
    """A model wrapper that is no ``DistributedDataParallel``."""


@pytest.fixture
def utils(load_tool, monkeypatch):
    module = load_tool('runner_utils')
    monkeypatch.setattr(module, 'has_accelerator', lambda: False)
    return module


def test_cpu_checks(utils):
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    with pytest.raises(ValueError, match="'nccl'.*backend=gloo"):
        utils.setup_distributed(cfg, 'pytorch')
    with pytest.raises(ValueError, match='--launcher slurm'):
        utils.setup_distributed(cfg, 'slurm')
    with pytest.raises(ValueError, match="'spawn'.*accepted"):
        utils.setup_distributed(cfg, 'spawn')
    utils.setup_distributed(cfg, 'none')
    assert cfg.launcher == 'none'

    cfg = Config(
        dict(env_cfg=dict(dist_cfg=dict(backend='gloo', timeout=60))))
    kwargs = utils.cpu_process_group_kwargs(cfg, 'pytorch')
    assert kwargs['backend'] == 'gloo'
    assert kwargs['timeout'].total_seconds() == 60


def test_cpu_model_wrapper(utils):
    cfg = Config(dict(find_unused_parameters=True))
    utils.set_cpu_model_wrapper(cfg)
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=True,
        device_ids=None)

    cfg = Config(dict(model_wrapper_cfg=dict(
        type='MMDistributedDataParallel', find_unused_parameters=False)))
    utils.set_cpu_model_wrapper(cfg)
    assert cfg.model_wrapper_cfg.device_ids is None

    cfg = Config(dict(model_wrapper_cfg=dict(type=OtherWrapper)))
    utils.set_cpu_model_wrapper(cfg)
    assert 'device_ids' not in cfg.model_wrapper_cfg
