# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/demo_quant.py``: the digits int8 demo, ``--quick`` settings.

One float epoch and one QAT epoch on the first 128 training images, PTQ on
2 calibration batches, the sensitivity table of one batch, and the QAT
model deployed (x86 lowering) and timed 3 times per batch size: every step
and the report, in about a minute; the figures themselves mean nothing.
The demo's configs (``configs/quantization/demo/``) run here on the real
digits data instead of in ``test_quantization_configs.py``.
"""
import json

import pytest
from mmengine.config import Config

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

from .conftest import ROOT, run_dirs  # noqa: E402

DEMO_DIR = ROOT / 'configs' / 'quantization' / 'demo'


def test_configs_quantize_the_distillation_teacher():
    ptq = Config.fromfile(str(DEMO_DIR /
                              'ptq_x86_resnet18_cifar16_digits.py'))
    qat = Config.fromfile(str(DEMO_DIR /
                              'qat_x86_resnet18_cifar16_digits.py'))
    teacher = Config.fromfile(
        str(ROOT / 'configs' / 'distill' / 'mmcls' / 'kd' / 'digits' /
            'resnet18_cifar16_teacher_digits.py'))
    arch = dict(ptq.model.architecture)
    arch['backbone'] = {
        k: v for k, v in arch['backbone'].items() if k != 'zero_init_residual'
    }
    assert arch == teacher.model
    assert ptq.model.quantizer.type == 'mmrazor.TorchNativeQuantizer'
    assert ptq.test_cfg.calibrate_dataloader.dataset.split == 'train'
    assert qat.train_cfg.type == 'mmrazor.QATEpochBasedLoop'
    assert qat.model == ptq.model


def test_bad_arguments(load_tool):
    demo = load_tool('demo_quant')
    for argv in (['--epochs', '0'], ['--calib-batches', '0'],
                 ['--deploy', 'FP16']):
        with pytest.raises(SystemExit):
            demo.parse_args(argv)
    args = demo.parse_args(['--quick'])
    assert (args.epochs, args.train_size, args.deploy) == (1, 128, ['QAT'])


@pytest.mark.slow  # about 40 s of CPU on 2 cores
def test_demo_quick(load_tool, tmp_path):
    demo = load_tool('demo_quant')
    report = demo.main(['--quick', '--work-dir', str(tmp_path)])
    (run_dir, ) = run_dirs(tmp_path)
    assert json.loads((run_dir / 'report.json').read_text())['accuracy'] \
        == report['accuracy']
    assert set(report['accuracy']) == {'fp32', 'PTQ', 'QAT'}
    assert all(0 <= v <= 100 for v in report['accuracy'].values())
    rows = report['deploy']['rows']
    assert set(rows) == {'fp32', 'QAT'}
    # int8 weights: about a quarter of the fp32 bytes
    assert rows['QAT']['size'] < rows['fp32']['size'] / 3
    # the lowered int8 graph computes what the fake-quantized one does
    assert rows['QAT']['sqnr_lowered_vs_fake_quant'] > 30
    assert set(report['deploy']['latency'][1]) == {'fp32', 'QAT lowered'}
    assert (run_dir / 'ptq' / 'model_ptq.pth').is_file()
    table = (run_dir / 'ptq' / 'sensitivity.md').read_text()
    assert table.count('\n') == 2 + 21  # 20 convs and the head
    assert (run_dir / 'ptq' / 'sensitivity.png').stat().st_size > 1000
