# Copyright (c) OpenMMLab. All rights reserved.
import itertools
import os
import os.path as osp
import pickle
from typing import ClassVar

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner, load_checkpoint
from torch import nn
from torch.utils.data import Dataset

import mmrazor  # noqa: F401  (installs the checkpoint loader)
from mmrazor.utils.checkpoint import install_checkpoint_loader, load_from_local

_names = itertools.count()


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(torch.stack(inputs)).squeeze(-1)
        if mode == 'loss':
            return {'loss': ((out - torch.stack(labels))**2).mean()}
        return out


class ToyDataset(Dataset):
    METAINFO: ClassVar[dict] = {}

    def __init__(self):
        generator = torch.Generator().manual_seed(0)
        self.data = torch.randn(8, 2, generator=generator)
        self.label = torch.randn(8, generator=generator)

    def __len__(self):
        return len(self.label)

    def __getitem__(self, index):
        return {'inputs': self.data[index], 'labels': self.label[index]}


class RecordHook(Hook):
    """Records the iteration and weights the runner starts training from."""

    def before_train(self, runner):
        self.start_iter = runner.iter
        self.start_weight = runner.model.linear.weight.detach().clone()


class Reduce:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def build_runner(work_dir, max_iters, **kwargs):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader={
            'dataset': ToyDataset(),
            'sampler': {'type': 'DefaultSampler', 'shuffle': True},
            'batch_size': 4,
            'num_workers': 0,
        },
        optim_wrapper={'optimizer': {'type': 'SGD', 'lr': 0.01}},
        param_scheduler={'type': 'MultiStepLR', 'milestones': [1]},
        train_cfg={'by_epoch': False, 'max_iters': max_iters},
        default_hooks={
            'checkpoint': {
                'type': 'CheckpointHook',
                'interval': 2,
                'by_epoch': False,
            },
        },
        randomness={'seed': 0},
        log_level='WARNING',
        experiment_name=f'test_checkpoint_{next(_names)}',
        **kwargs)


@pytest.fixture(scope='module')
def runner_ckpt(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('runner')
    build_runner(work_dir, max_iters=2).train()
    return str(work_dir / 'iter_2.pth')


@pytest.fixture(autouse=True)
def no_torch_env(monkeypatch):
    monkeypatch.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)
    monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', raising=False)


def test_runner_checkpoint_needs_fallback(runner_ckpt):
    # The problem being solved: torch's default refuses the checkpoint.
    with pytest.raises(pickle.UnpicklingError, match='Weights only'):
        torch.load(runner_ckpt)
    ckpt = load_from_local(runner_ckpt, map_location='cpu')
    assert ckpt['meta']['iter'] == 2
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)


def test_runner_load_from(tmp_path, runner_ckpt):
    hook = RecordHook()
    runner = build_runner(
        tmp_path, max_iters=1, load_from=runner_ckpt, custom_hooks=[hook])
    runner.train()
    state_dict = torch.load(runner_ckpt, weights_only=False)['state_dict']
    assert hook.start_iter == 0
    assert torch.equal(hook.start_weight, state_dict['linear.weight'])
    assert runner.iter == 1


def test_runner_resume(tmp_path, runner_ckpt):
    hook = RecordHook()
    runner = build_runner(
        tmp_path,
        max_iters=3,
        load_from=runner_ckpt,
        resume=True,
        custom_hooks=[hook])
    runner.train()
    assert hook.start_iter == 2
    assert runner.iter == 3
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 3


def test_mmengine_load_checkpoint(runner_ckpt):
    model = ToyModel()
    ckpt = load_checkpoint(model, runner_ckpt, map_location='cpu')
    assert torch.equal(model.linear.weight,
                       ckpt['state_dict']['linear.weight'])


def test_legacy_serialization_format(tmp_path, runner_ckpt):
    path = str(tmp_path / 'resaved.pth')
    torch.save(
        load_from_local(runner_ckpt), path,
        _use_new_zipfile_serialization=False)
    buffer = load_from_local(path)['message_hub']['log_scalars']['train/lr']
    assert buffer.statistics('mean') == pytest.approx(0.01)
    assert type(buffer) is HistoryBuffer


@pytest.mark.filterwarnings('ignore:Detected pickle protocol 4')
def test_pickle_protocol_4_refused_clearly(tmp_path, runner_ckpt):
    path = str(tmp_path / 'resaved.pth')
    torch.save(load_from_local(runner_ckpt), path, pickle_protocol=4)
    with pytest.raises(pickle.UnpicklingError,
                       match='resaved.pth.*pickle protocol 4'):
        load_from_local(path)


def test_plain_state_dict_uses_weights_only(tmp_path, monkeypatch):
    path = str(tmp_path / 'plain.pth')
    model = ToyModel()
    torch.save(model.state_dict(), path)
    calls = []
    real_load = torch.load

    def spy_load(*args, **kwargs):
        calls.append(kwargs.get('weights_only'))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, 'load', spy_load)
    state_dict = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert calls == [True]
    assert torch.equal(state_dict['linear.weight'], model.linear.weight)


@pytest.mark.parametrize('payload,pattern', [
    (lambda marker: Reduce(os.system, f'echo pwned > {marker}'),
     'global (posix|nt|os).system'),
    (lambda marker: Reduce(eval, f'open({marker!r}, "w")'),
     'global (builtins.)?eval'),
])
def test_malicious_global_refused(tmp_path, payload, pattern):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    checkpoint = {
        'state_dict': ToyModel().state_dict(),
        'meta': {'x': payload(marker)},
    }
    torch.save(checkpoint, path)
    with pytest.raises(pickle.UnpicklingError, match=pattern) as info:
        load_checkpoint(ToyModel(), path)
    message = str(info.value)
    assert 'not a recognised mmengine/mmrazor checkpoint' in message
    assert 'evil.pth' in message
    assert 'weights_only=False' in message
    assert 'TORCH_FORCE' not in message
    assert not marker.exists()


@pytest.mark.parametrize('payload', [
    Reduce(getattr, HistoryBuffer, '__init__'),
    Reduce(getattr, Reduce(getattr, HistoryBuffer, 'min'), '__globals__'),
    Reduce(getattr, HistoryBuffer, '_statistics_methods'),
])
def test_getattr_abuse_refused(tmp_path, payload):
    path = str(tmp_path / 'evil.pth')
    torch.save({'meta': {'x': payload}}, path)
    with pytest.raises(pickle.UnpicklingError, match=r'getattr\(.*History'):
        load_from_local(path)


def test_history_buffer_cannot_be_called(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'meta': {'x': Reduce(HistoryBuffer, [1.0])}}, path)
    with pytest.raises(pickle.UnpicklingError, match='a call of .*History'):
        load_from_local(path)


def test_force_no_weights_only_env_ignored(monkeypatch, tmp_path):
    """Our loader passes ``weights_only=True`` explicitly, which torch's
    opt-out variable cannot override."""
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': Reduce(os.system, f'echo pwned > {marker}')}, path)
    with pytest.raises(pickle.UnpicklingError, match='evil.pth'):
        load_from_local(path)
    assert not marker.exists()


@pytest.mark.parametrize('content,pattern', [
    (b'', 'is empty'),
    (b'\x00\x17random bytes, not a checkpoint' * 8, 'not a torch checkpoint'),
])
def test_unreadable_file_named(tmp_path, content, pattern):
    path = tmp_path / 'broken.pth'
    path.write_bytes(content)
    with pytest.raises(pickle.UnpicklingError, match=f'broken.pth.*{pattern}'):
        load_from_local(str(path))


def test_truncated_checkpoint_named(tmp_path, runner_ckpt):
    path = tmp_path / 'truncated.pth'
    data = open(runner_ckpt, 'rb').read()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(pickle.UnpicklingError, match='truncated.pth'):
        load_from_local(str(path))


def test_file_not_found():
    path = '~/mmrazor_missing_checkpoint.pth'
    with pytest.raises(FileNotFoundError, match='can not be found'):
        load_from_local(path)
    with pytest.raises(FileNotFoundError, match=osp.expanduser('~')):
        CheckpointLoader.load_checkpoint(path)


def test_install_is_idempotent():
    install_checkpoint_loader()
    install_checkpoint_loader()
    get_loader = CheckpointLoader._get_checkpoint_loader
    assert get_loader('work_dirs/epoch_1.pth') is load_from_local
    assert get_loader('https://example.com/a.pth') is not load_from_local


