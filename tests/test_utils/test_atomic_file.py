# Copyright (c) OpenMMLab. All rights reserved.
import os
import pickle

import pytest
import torch

from mmrazor.structures import save_subnet_file
from mmrazor.utils.atomic_file import (
    atomic_dump_json,
    atomic_open,
    atomic_torch_save,
)


def test_failed_write_keeps_old_file_and_no_temp(tmp_path):
    path = tmp_path / 'state.json'
    atomic_dump_json({'epoch': 1}, path)
    with pytest.raises(RuntimeError, match='disk full'):
        with atomic_open(path) as f:
            f.write('{"epoch": ')
            raise RuntimeError('disk full')
    assert path.read_text() == '{"epoch": 1}'
    assert os.listdir(tmp_path) == ['state.json']


def test_unserialisable_torch_save_keeps_old_file(tmp_path):
    path = tmp_path / 'w.pth'
    atomic_torch_save({'w': torch.ones(2)}, path)
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        atomic_torch_save({'w': lambda: None}, path)
    assert torch.equal(torch.load(path, weights_only=True)['w'], torch.ones(2))
    assert os.listdir(tmp_path) == ['w.pth']


def test_no_overwrite_without_flag(tmp_path):
    path = tmp_path / 'subnet.yaml'
    save_subnet_file({'a': {'chosen': 1}}, path)
    with pytest.raises(FileExistsError, match='subnet.yaml.*overwrite'):
        save_subnet_file({'a': {'chosen': 2}}, path)
    assert 'chosen: 1' in path.read_text()
    save_subnet_file({'a': {'chosen': 2}}, path, overwrite=True)
    assert 'chosen: 2' in path.read_text()


def test_full_disk_keeps_subnet(tmp_path, monkeypatch):
    path = tmp_path / 'subnet.yaml'
    save_subnet_file({'a': {'chosen': 1}}, path)

    def no_space(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', no_space)
    with pytest.raises(OSError, match='No space'):
        save_subnet_file({'a': {'chosen': 2}}, path, overwrite=True)
    assert 'chosen: 1' in path.read_text()
    assert os.listdir(tmp_path) == ['subnet.yaml']


def test_mode_checked(tmp_path):
    with pytest.raises(ValueError, match="'a'"):
        with atomic_open(tmp_path / 'x', 'a'):
            pass


def test_mmengine_checkpoints_written_atomically(tmp_path, monkeypatch):
    from mmengine.runner import save_checkpoint

    import mmrazor  # noqa: F401  (installs the atomic backend)
    path = tmp_path / 'epoch_1.pth'
    save_checkpoint({'w': torch.ones(1)}, str(path))
    before = path.read_bytes()

    def no_space(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', no_space)
    with pytest.raises(OSError, match='No space'):
        save_checkpoint({'w': torch.zeros(1)}, str(path))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ['epoch_1.pth']
