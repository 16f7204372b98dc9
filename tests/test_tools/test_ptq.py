# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/ptq.py``: calibrate, save, evaluate; sensitivity; test again."""
import pytest

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

from mmengine.config import Config  # noqa: E402

from ..test_configs.test_quantization_configs import tiny_run  # noqa: E402
from .conftest import TOOLS, run_tool  # noqa: E402

PTQ_CFG = 'ptq/base/ptq_openvino_resnet18_8xb32_in1k_calib32xb32.py'


@pytest.mark.slow
def test_ptq_sensitivity_and_test_again(tmp_path):
    cfg = tiny_run(PTQ_CFG, str(tmp_path / 'unused'))
    cfg.log_level = 'INFO'
    config = tmp_path / 'ptq_tiny.py'
    cfg.dump(str(config))
    work = tmp_path / 'work'
    proc = run_tool([
        TOOLS / 'ptq.py', config, '--work-dir', work, '--sensitivity', '1',
        '--keep-float', '2'
    ])
    assert 'PTQ: calibrated on 2 batches' in proc.stdout
    assert (work / 'model_ptq.pth').is_file()
    table = (work / 'sensitivity.md').read_text()
    assert table.count('\n') == 2 + 21  # header + 20 convs + the head
    assert (work / 'sensitivity.png').stat().st_size > 1000
    assert 'PTQ again with' in proc.stdout
    assert (work / 'mixed' / 'model_ptq.pth').is_file()

    again = run_tool([
        TOOLS / 'test.py', config, work / 'model_ptq.pth', '--work-dir',
        tmp_path / 'test'
    ])
    assert 'the model is calibrated already' in again.stdout
    assert 'accuracy/top1' in again.stdout


def test_ptq_refuses_other_configs(load_tool, tmp_path):
    ptq = load_tool('ptq')
    cfg = Config(dict(model=dict(type='mmcls.ImageClassifier'),
                      test_cfg=dict(type='TestLoop')))
    with pytest.raises(ValueError, match='needs model.type=MMArchitecture'):
        ptq.check_config(cfg, 'x.py')
    with pytest.raises(SystemExit):
        ptq.parse_args(['x.py', '--keep-float', '2'])
