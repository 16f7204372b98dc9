# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/train.py``: SPOS supernet and subnet runs on fake data."""
import os

import pytest
import torch
from mmengine.config import Config

from mmrazor.utils.checkpoint import load_from_local

from .conftest import (
    SUBNET_CFG,
    TOOLS,
    read_log,
    read_scalars,
    run_dirs,
    run_tool,
)

TRAIN = TOOLS / 'train.py'


def train_iters(run_dir):
    """The iterations a run logged training scalars for."""
    return [r['iter'] for r in read_scalars(run_dir) if 'loss' in r]


def trained_weights(state_dict):
    """The entries of ``state_dict`` an optimizer step may change."""
    return {
        k: v
        for k, v in state_dict.items()
        if 'running_' not in k and 'num_batches_tracked' not in k
    }


def test_train_writes_checkpoint(supernet_run):
    assert supernet_run.checkpoint.is_file()
    first_run = run_dirs(supernet_run.work_dir)[0]
    assert train_iters(first_run) == [1, 2]
    checkpoint = load_from_local(str(supernet_run.checkpoint))
    assert checkpoint['meta']['iter'] == 2
    assert any(k.startswith('architecture.backbone.')
               for k in checkpoint['state_dict'])


def test_resume_latest(supernet_run):
    work_dir = supernet_run.work_dir
    before = set(run_dirs(work_dir))
    # The environment of run_tool has no TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD:
    # the message hub in the checkpoint loads through mmrazor's loader.
    run_tool([
        TRAIN, supernet_run.config, '--work-dir', work_dir, '--resume',
        '--cfg-options', 'train_cfg.max_iters=4'
    ])
    (new_run, ) = set(run_dirs(work_dir)) - before
    log = read_log(new_run)
    assert 'Auto resumed from the latest checkpoint' in log
    assert 'iter_2.pth' in log
    assert 'resumed epoch: 0, iter: 2' in log
    assert train_iters(new_run) == [3, 4]
    checkpoint = load_from_local(str(work_dir / 'iter_4.pth'))
    assert checkpoint['meta']['iter'] == 4
    # Nothing of the first run is lost.
    assert supernet_run.checkpoint.is_file()
    assert before < set(run_dirs(work_dir))


def test_load_from(supernet_run, tmp_path):
    work_dir = tmp_path / 'work'
    ckpt = supernet_run.checkpoint
    # lr=0: the weights saved after training are the loaded ones.
    run_tool([
        TRAIN, supernet_run.config, '--work-dir', work_dir, '--cfg-options',
        f'load_from={ckpt}', 'optim_wrapper.optimizer.lr=0'
    ])
    (run_dir, ) = run_dirs(work_dir)
    log = read_log(run_dir)
    assert f'Load checkpoint from {ckpt}' in log
    assert 'resumed epoch' not in log
    assert train_iters(run_dir) == [1, 2]
    loaded = trained_weights(load_from_local(str(ckpt))['state_dict'])
    saved = trained_weights(
        load_from_local(str(work_dir / 'iter_2.pth'))['state_dict'])
    assert saved.keys() == loaded.keys()
    for key, value in saved.items():
        assert torch.equal(value, loaded[key]), key


def test_subnet_from_supernet(supernet_run, fake_config, tmp_path):
    # The subnet yaml path of the config is relative to the repository
    # root, which run_tool runs from.
    config = fake_config(SUBNET_CFG, 'subnet')
    work_dir = tmp_path / 'work_subnet'
    ckpt = supernet_run.checkpoint
    run_tool([
        TRAIN, config, '--work-dir', work_dir, '--cfg-options',
        'model.init_cfg.type=Pretrained', f'model.init_cfg.checkpoint={ckpt}',
        'model.init_cfg.prefix=architecture.', 'optim_wrapper.optimizer.lr=0'
    ])
    (run_dir, ) = run_dirs(work_dir)
    log = read_log(run_dir)
    assert f'load architecture. in model from: {ckpt}' in log
    assert 'missing keys in source state_dict' not in log
    assert train_iters(run_dir) == [1, 2]

    supernet = trained_weights(load_from_local(str(ckpt))['state_dict'])
    subnet = trained_weights(
        load_from_local(str(work_dir / 'iter_2.pth'))['state_dict'])
    assert any(k.startswith('backbone.') for k in subnet)
    assert len(subnet) < len(supernet)  # only the chosen candidates
    for key, value in subnet.items():
        assert torch.equal(value, supernet[f'architecture.{key}']), key


@pytest.fixture
def train_tool(load_tool):
    return load_tool('train')


def merge(train_tool, *argv, cfg=None):
    """Run ``merge_args`` of ``tools/train.py`` on a small config."""
    if cfg is None:
        cfg = Config(
            dict(optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1))))
    args = train_tool.parse_args(['some/dir/my_config.py', *argv])
    return train_tool.merge_args(cfg, args)


def test_work_dir(train_tool):
    assert merge(train_tool).work_dir == './work_dirs/my_config'
    assert merge(train_tool, '--work-dir', 'x').work_dir == 'x'
    cfg = Config(dict(work_dir='from_cfg', optim_wrapper=dict()))
    assert merge(train_tool, cfg=cfg).work_dir == 'from_cfg'
    assert merge(
        train_tool, '--cfg-options', 'work_dir=opt').work_dir == 'opt'


def test_resume_args(train_tool, supernet_run, tmp_path):
    with pytest.warns(UserWarning, match='no checkpoint found'):
        cfg = merge(train_tool, '--resume', '--work-dir', str(tmp_path))
    assert cfg.resume is True and cfg.load_from is None
    cfg = merge(train_tool, '--resume', str(supernet_run.checkpoint))
    assert cfg.resume is True
    assert cfg.load_from == str(supernet_run.checkpoint)
    missing = tmp_path / 'missing.pth'
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        merge(train_tool, '--resume', str(missing))


def test_local_rank_alias(train_tool, monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = train_tool.parse_args(['c.py', '--local-rank', '3'])
    assert args.local_rank == 3
    assert os.environ['LOCAL_RANK'] == '3'
    monkeypatch.delenv('LOCAL_RANK')
    assert train_tool.parse_args(['c.py', '--local_rank=1']).local_rank == 1


def test_amp_args(train_tool, load_tool):
    cfg = Config(dict(optim_wrapper=dict(type='MyWrapper')))
    with pytest.raises(ValueError, match="'MyWrapper'"):
        merge(train_tool, '--amp', cfg=cfg)
    if load_tool('runner_utils').has_accelerator():
        cfg = merge(train_tool, '--amp')
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    else:
        with pytest.raises(RuntimeError, match='--amp needs a CUDA'):
            merge(train_tool, '--amp')


def test_auto_scale_lr_args(train_tool):
    with pytest.raises(ValueError, match='base_batch_size'):
        merge(train_tool, '--auto-scale-lr')
    cfg = Config(
        dict(optim_wrapper=dict(), auto_scale_lr=dict(base_batch_size=16)))
    assert merge(train_tool, '--auto-scale-lr', cfg=cfg).auto_scale_lr == \
        dict(base_batch_size=16, enable=True)


def test_work_dir_of_earlier_run_kept(train_tool, supernet_run, tmp_path):
    work_dir = str(supernet_run.work_dir)
    with pytest.raises(FileExistsError,
                       match=r'iter_2.pth.*--resume.*--overwrite'):
        merge(train_tool, '--work-dir', work_dir)
    assert merge(train_tool, '--work-dir', work_dir,
                 '--overwrite').work_dir == work_dir
    assert merge(train_tool, '--work-dir', work_dir, '--resume').resume
    # A work dir with only logs (timestamped folders) is free.
    (tmp_path / '20260101_000000').mkdir()
    assert merge(train_tool, '--work-dir', str(tmp_path)).work_dir == str(
        tmp_path)


def test_second_run_refused_end_to_end(supernet_run):
    checkpoint = supernet_run.checkpoint
    before = checkpoint.read_bytes()
    result = run_tool([TRAIN, supernet_run.config, '--work-dir',
                       supernet_run.work_dir], check=False)
    assert result.returncode != 0
    assert 'error: The work dir' in result.stdout
    assert 'Traceback' not in result.stdout
    assert checkpoint.read_bytes() == before


def test_resume_plain_state_dict_refused(train_tool, tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save({'conv.weight': torch.ones(1)}, path)
    with pytest.raises(ValueError,
                       match=r"weights.pth.*not a training checkpoint.*"
                       r"load_from=PATH"):
        merge(train_tool, '--resume', str(path), '--work-dir',
              str(tmp_path / 'w'))
