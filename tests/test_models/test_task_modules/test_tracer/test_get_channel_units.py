# Copyright (c) OpenMMLab. All rights reserved.
"""tools/pruning/get_channel_units.py on a small config."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
TOOL = ROOT / 'tools' / 'pruning' / 'get_channel_units.py'

ARCHITECTURE = """
architecture = dict(
    _scope_='mmcls',
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512))
"""


@pytest.fixture
def configs(tmp_path):
    """An algorithm config (the tool analyses its architecture) and a
    plain model config."""
    algorithm = tmp_path / 'algorithm.py'
    algorithm.write_text(ARCHITECTURE + "model = dict(_scope_='mmrazor', "
                         "type='AutoSlim', architecture=architecture)\n")
    plain = tmp_path / 'plain.py'
    plain.write_text(ARCHITECTURE + 'model = architecture\n')
    return algorithm, plain


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(ROOT), env.get('PYTHONPATH')) if p)
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=300)


def test_writes_units_and_refuses_to_overwrite(configs, tmp_path):
    algorithm, _ = configs
    out = tmp_path / 'units.json'
    proc = run(algorithm, '-o', out, '--input-shape', 1, 3, 32, 32)
    assert proc.returncode == 0, proc.stderr[-3000:]
    units = json.loads(out.read_text())
    assert len(units) == 12
    assert 'backbone.conv1_(0, 64)_64' in units
    assert 'Excluded units:' in proc.stdout
    assert 'saved 12 units' in proc.stdout
    before = out.read_text()
    again = run(algorithm, '-o', out)
    assert again.returncode == 1
    assert 'refusing to overwrite' in again.stderr
    assert out.read_text() == before


def test_include_excluded(configs, capsys):
    _, plain = configs
    spec = importlib.util.spec_from_file_location('get_channel_units', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    rc = tool.main([str(plain), '--include-excluded', '--input-shape', '1',
                    '3', '32', '32'])
    assert rc == 0
    text = capsys.readouterr().out
    result = json.loads(text[:text.index('\nChannelAnalyzer (')])
    assert set(result) == {'units', 'excluded_units', 'report'}
    assert len(result['units']) == 12
    assert set(result['excluded_units']) == {
        'backbone.conv1:input_(0, 3)_3', 'head.fc_(0, 10)_10'}
    assert tool.main(['missing_config.py']) == 1
