# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/demo_distill.py``: the digits distillation demo, tiny settings.

One epoch of each run on the first 128 training images, one seed: the
pipeline (teacher, student alone, student distilled, report) in well under
a minute; the accuracies themselves mean nothing here.
"""
import json

import pytest
from mmengine.config import Config

from mmrazor.registry import MODELS

from .conftest import ROOT, TOOLS, run_dirs, run_tool

DEMO = TOOLS / 'demo_distill.py'
DEMO_DIR = ROOT / 'configs' / 'distill' / 'mmcls' / 'kd' / 'digits'

try:
    from mmrazor.models import SingleTeacherDistill  # noqa: F401
    HAS_DISTILL = True
except ImportError:
    HAS_DISTILL = False

needs_distill = pytest.mark.skipif(
    not HAS_DISTILL,
    reason='mmrazor.SingleTeacherDistill is not implemented yet (issue 5, '
    'item 6): the demo cannot distil without it')


def test_configs_share_data_and_schedule():
    teacher, student, kd = (Config.fromfile(str(DEMO_DIR / name)) for name in (
        'resnet18_cifar16_teacher_digits.py',
        'simple_conv_student_digits.py',
        'kd_logits_teacher_student_digits.py'))
    for cfg in (student, kd):
        for key in ('train_dataloader', 'val_dataloader', 'optim_wrapper',
                    'param_scheduler', 'train_cfg'):
            assert cfg[key] == teacher[key], key
    assert student.model.backbone.type == 'mmrazor.SimpleConvNet'
    assert student.model.head.loss.loss_weight == 1.0
    assert kd.model.architecture.head.loss.loss_weight == 0.1
    loss = kd.model.distiller.distill_losses.loss_kl
    assert (loss.type, loss.tau, loss.loss_weight) == ('KLDivergence', 4,
                                                       0.9)


@needs_distill
def test_kd_config_builds(tmp_path):
    cfg = Config.fromfile(
        str(DEMO_DIR / 'kd_logits_teacher_student_digits.py'))
    model = MODELS.build(cfg.model)
    teacher = Config.fromfile(
        str(DEMO_DIR / 'resnet18_cifar16_teacher_digits.py'))
    # The teacher is the teacher config's model; the student has 5.5 k
    # parameters.
    assert type(model.teacher).__name__ == teacher.model.type
    assert sum(p.numel() for p in model.student.parameters()) == 5466
    assert sum(p.numel() for p in model.teacher.parameters()) > 690_000


def test_bad_arguments(load_tool):
    demo = load_tool('demo_distill')
    for argv in (['--epochs', '0'], ['--seeds', '1', '1'],
                 ['--teacher-ckpt', 'no/such.pth']):
        with pytest.raises(SystemExit):
            demo.parse_args(argv)
    args = demo.parse_args(['--epochs', '3'])
    assert (args.teacher_epochs, args.seeds) == (3, [0, 1, 2])


@needs_distill
def test_demo_tiny(tmp_path):
    work_dir = tmp_path / 'work'
    proc = run_tool([
        DEMO, '--work-dir', work_dir, '--epochs', '1', '--seeds', '0',
        '--train-size', '128'
    ])
    out = proc.stdout
    assert '[1/2] Training the teacher' in out
    assert 'alone seed 0 (1/1) epoch 1/1: val top-1' in out
    assert 'KD    seed 0 (1/1) epoch 1/1: val top-1' in out
    assert '==== Knowledge distillation on digits: report ====' in out
    (run_dir, ) = run_dirs(work_dir)
    report = json.loads((run_dir / 'report.json').read_text())
    assert report['seeds'] == [0]
    assert len(report['alone']) == len(report['distilled']) == 1
    assert 0 <= report['teacher_accuracy'] <= 100
    assert report['gain'] == pytest.approx(report['distilled'][0] -
                                           report['alone'][0])
    # The per-epoch curves end at the reported accuracies, and are plotted.
    for key in ('alone', 'distilled'):
        (curve, ) = report[f'{key}_per_epoch']
        assert curve == [[1, pytest.approx(report[key][0])]]
    assert report['plot'] == str(run_dir / 'accuracy_per_epoch.png')
    assert (run_dir / 'accuracy_per_epoch.png').read_bytes()[:4] == \
        b'\x89PNG'
    assert (run_dir / 'teacher' / 'epoch_1.pth').is_file()
    assert (run_dir / 'kd_seed0').is_dir()
    assert (run_dir / 'student_seed0').is_dir()

    # A second run with the trained teacher goes to a new folder and
    # trains no teacher.
    proc = run_tool([
        DEMO, '--work-dir', work_dir, '--epochs', '1', '--seeds', '1',
        '--train-size', '64', '--teacher-ckpt',
        run_dir / 'teacher' / 'epoch_1.pth'
    ])
    assert 'Training the teacher' not in proc.stdout
    assert len(run_dirs(work_dir)) == 2
