# Copyright (c) OpenMMLab. All rights reserved.
"""Hand-made malicious checkpoints: the BUILD opcode and class-wide state.

Each payload is written as raw pickle opcodes and stored in both torch
formats (zip and the legacy non-zip one); every load path must refuse it
without writing a file or changing a class or function.
"""
import collections
import io
import os
import pickle
import struct
import types

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModule
from mmengine.runner import CheckpointLoader, load_checkpoint
from torch import nn

import mmrazor  # noqa: F401  (installs the checkpoint loader)
from mmrazor.utils.checkpoint import load_from_local


def _raw_pickle_module(raw: bytes) -> types.ModuleType:
    """A ``pickle_module`` for ``torch.save`` that writes ``raw`` as the
    main pickle (and real pickles for the legacy format's headers)."""

    class Pickler(pickle.Pickler):

        def dump(self, obj):
            self._file.write(raw)

        def __init__(self, file, protocol=None):
            super().__init__(file, protocol)
            self._file = file

    module = types.ModuleType('raw_pickle')
    module.Pickler = Pickler
    module.dump = pickle.dump
    return module


def _global(path: str) -> bytes:
    module, name = path.rsplit('.', 1)
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def _unicode(text: str) -> bytes:
    data = text.encode()
    return b'X' + struct.pack('<I', len(data)) + data


def _build_on(path: str, attrs: dict, tail: bytes = b'') -> bytes:
    """Pickle that loads global ``path``, BUILDs ``attrs`` onto it."""
    # (None, attrs) as BUILD state: pickle sets ``attrs`` with setattr.
    state = pickle.dumps((None, attrs), protocol=2)[2:-1]
    return b'\x80\x02' + _global(path) + b'q\x64' + state + b'b' + tail + b'.'


def patch_file_payload(target: str) -> bytes:
    """Old torch trick: rename ``_rebuild_tensor_v2`` and turn on
    ``dump_patches``, then name it as a saved container whose source changed,
    so that torch's legacy loader writes ``<__name__>.patch``."""
    persistent = (b'(' + _unicode('module') + b'h\x64' + _unicode('x.py') +
                  _unicode('changed source') + b'tQ' + b'\x86')
    return _build_on('torch._utils._rebuild_tensor_v2', {
        '__name__': target,
        'dump_patches': True
    }, persistent)


def counter_payload() -> bytes:
    return _build_on('collections.Counter', {'pwned_by_checkpoint': True})


def history_payload() -> bytes:
    """A HistoryBuffer whose state swaps ``mean`` for ``max`` class-wide."""
    # NEWOBJ form, as protocol 2 writes a plain class instance.
    raw = (b'\x80\x02' +
           _global('mmengine.logging.history_buffer.HistoryBuffer') +
           b')\x81' + b'}' + _unicode('statistics_methods') + b'}' +
           _unicode('mean') + _global('builtins.getattr') +
           _global('mmengine.logging.history_buffer.HistoryBuffer') +
           _unicode('max') + b'\x86R' + b's' + b's' + b'b.')
    return raw


def _save(raw: bytes, path: str, zipped: bool) -> str:
    torch.save(
        b'', path, pickle_module=_raw_pickle_module(raw),
        _use_new_zipfile_serialization=zipped)
    return path


class _Pretrained(BaseModule):

    def __init__(self, checkpoint):
        super().__init__(
            init_cfg=dict(type='Pretrained', checkpoint=checkpoint))
        self.linear = nn.Linear(2, 1)


LOAD_PATHS = {
    'load_from_local': lambda path: load_from_local(path),
    'CheckpointLoader': lambda path: CheckpointLoader.load_checkpoint(path),
    'load_checkpoint': lambda path: load_checkpoint(nn.Linear(2, 1), path),
    'init_cfg Pretrained': lambda path: _Pretrained(path).init_weights(),
}


@pytest.mark.parametrize('zipped', [True, False], ids=['zip', 'legacy'])
@pytest.mark.parametrize('load', LOAD_PATHS.values(), ids=list(LOAD_PATHS))
def test_patch_file_payload_writes_nothing(tmp_path, monkeypatch, load,
                                           zipped):
    monkeypatch.chdir(tmp_path)
    target = str(tmp_path / 'written_by_checkpoint')
    path = _save(patch_file_payload(target), str(tmp_path / 'evil.pth'),
                 zipped)
    before = set(os.listdir(tmp_path))
    rebuild = torch._utils._rebuild_tensor_v2
    with pytest.raises(pickle.UnpicklingError, match='evil.pth'):
        load(path)
    assert set(os.listdir(tmp_path)) == before
    assert not os.path.exists(target + '.patch')
    assert rebuild.__name__ == '_rebuild_tensor_v2'
    assert not hasattr(rebuild, 'dump_patches')


@pytest.mark.parametrize('zipped', [True, False], ids=['zip', 'legacy'])
@pytest.mark.parametrize('load', LOAD_PATHS.values(), ids=list(LOAD_PATHS))
def test_counter_payload_changes_nothing(tmp_path, load, zipped):
    path = _save(counter_payload(), str(tmp_path / 'evil.pth'), zipped)
    with pytest.raises(pickle.UnpicklingError, match='evil.pth'):
        load(path)
    assert not hasattr(collections.Counter, 'pwned_by_checkpoint')


@pytest.mark.parametrize('zipped', [True, False], ids=['zip', 'legacy'])
def test_history_buffer_payload_changes_nothing(tmp_path, zipped):
    path = _save(history_payload(), str(tmp_path / 'evil.pth'), zipped)
    HistoryBuffer()  # fills the class-level table
    table = dict(HistoryBuffer._statistics_methods)
    with pytest.raises(pickle.UnpicklingError, match='statistics methods'):
        load_from_local(path)
    assert HistoryBuffer._statistics_methods == table
    assert HistoryBuffer._statistics_methods['mean'] is HistoryBuffer.mean


def test_payload_really_attacks_plain_pickle(tmp_path, monkeypatch):
    """The payloads do what they claim when loaded without restrictions."""
    monkeypatch.chdir(tmp_path)
    rebuild = torch._utils._rebuild_tensor_v2
    target = str(tmp_path / 'written_by_checkpoint')
    path = _save(patch_file_payload(target), str(tmp_path / 'evil.pth'),
                 zipped=False)
    try:
        with pytest.warns(torch.serialization.SourceChangeWarning):
            torch.load(path, weights_only=False)
        assert os.path.exists(target + '.patch')
    finally:
        rebuild.__name__ = '_rebuild_tensor_v2'
        del rebuild.dump_patches
    stream = io.BytesIO(counter_payload())
    try:
        pickle.load(stream)
        assert collections.Counter.pwned_by_checkpoint is True
    finally:
        del collections.Counter.pwned_by_checkpoint
