# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor's tools, run as scripts with their flags."""
import subprocess
import sys

import torch

from .conftest import ROOT, TOOLS, tool_env


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT,
                          env=tool_env(), capture_output=True, text=True,
                          timeout=120)


def test_kd_to_student_and_publish(tmp_path):
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': {'architecture.w': torch.ones(2),
                               'teacher.w': torch.zeros(2)},
                'meta': {'epoch': 1}, 'optimizer': {'lr': 0.1}}, ckpt)
    tool = TOOLS / 'model_converters' / 'convert_kd_ckpt_to_student.py'
    assert run(tool, ckpt).returncode == 0
    student = torch.load(tmp_path / 'epoch_1_student.pth',
                         weights_only=True)
    assert list(student['state_dict']) == ['w']
    again = run(tool, ckpt)
    assert again.returncode == 1 and 'exists' in again.stderr
    assert run(tool, ckpt, '--overwrite').returncode == 0
    out = tmp_path / 'pub'
    done = run(TOOLS / 'model_converters' / 'publish_model.py', ckpt,
               '--model-name', 'm', '--timestamp', 't', '--out-dir', out)
    assert done.returncode == 0, done.stderr
    [published] = list(out.glob('m_t-*.pth'))
    assert 'optimizer' not in torch.load(published, weights_only=True)


def test_print_config(tmp_path):
    cfg = tmp_path / 'c.py'
    cfg.write_text('a = dict(b=1)\n')
    done = run(TOOLS / 'misc' / 'print_config.py', cfg, '--cfg-options',
               'a.b=2')
    assert done.returncode == 0 and 'b=2' in done.stdout
