# Copyright (c) OpenMMLab. All rights reserved.
"""CLI mistakes give one message that names them, and no traceback."""
from .conftest import ROOT, SPOS_DIR, SUPERNET_CFG, TOOLS, run_tool

TRAIN = TOOLS / 'train.py'


def _fails(args, tmp_path):
    proc = run_tool([TRAIN, *args, '--work-dir', tmp_path / 'w'],
                    check=False)
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stdout
    # One message, not the config dump and traceback it used to be.
    assert len(proc.stdout.splitlines()) <= 10, proc.stdout
    assert not (tmp_path / 'w').exists()  # no empty work dir left behind
    return proc.stdout


def test_config_typo_suggests(tmp_path):
    typo = str(SUPERNET_CFG).replace('supernet', 'supernt')
    out = _fails([typo], tmp_path)
    assert 'does not exist. Did you mean' in out
    assert 'spos_shufflenet_supernet_8xb128_in1k.py' in out


def test_cfg_options_typo_and_missing_equals(tmp_path):
    out = _fails([SUPERNET_CFG, '--cfg-options',
                  'optim_wraper.optimizer.lr=0.5'], tmp_path)
    assert "no key 'optim_wraper'. Did you mean 'optim_wrapper'" in out
    out = _fails([SUPERNET_CFG, '--cfg-options', 'train_cfg.max_epochs',
                  '1'], tmp_path)
    assert 'expects key=value pairs' in out


def test_missing_data_named_with_fake_data_hint(tmp_path):
    out = _fails([SUPERNET_CFG], tmp_path)
    assert 'data/imagenet' in out and '--fake-data' in out


def test_search_names_missing_checkpoint_before_data(tmp_path):
    search = SPOS_DIR / 'spos_shufflenet_search_8xb128_in1k.py'
    missing = 'work_dirs/spos_shufflenet_supernet_8xb128_in1k/epoch_300.pth'
    out = _fails([search, '--cfg-options', f'load_from={missing}'], tmp_path)
    assert f"load_from checkpoint '{missing}' does not exist" in out
    assert 'data/imagenet' not in out and 'val.txt' not in out


def test_test_prints_metrics_whatever_the_log_level(supernet_run, tmp_path):
    # The demo's saved configs keep log_level='WARNING', which hides the
    # runner's own metrics line.
    proc = run_tool([
        TOOLS / 'test.py', supernet_run.config, supernet_run.checkpoint,
        '--work-dir', tmp_path / 'work', '--cfg-options', 'log_level=WARNING'
    ])
    assert 'Iter(test)' not in proc.stdout
    assert 'metrics: accuracy/top1: ' in proc.stdout


def test_runs_print_no_third_party_noise(supernet_run):
    for noise in ('MultiScaleDeformableAttention', 'pkg_resources',
                  '"FileClient" will be deprecated', 'HardDiskBackend'):
        assert noise not in supernet_run.output
    assert 'Epoch(train)' in supernet_run.output or \
        'Iter(train)' in supernet_run.output


def test_fake_data_check_fits_a_ten_class_config(tmp_path):
    # The check the missing-data message names: fake labels follow the
    # model's num_classes (10 here), not ImageNet's 1000.
    config = ROOT / 'examples' / 'custom_backbone' / 'tiny_spos_config.py'
    proc = run_tool([TRAIN, config, '--fake-data', '--work-dir',
                     tmp_path / 'w'])
    assert 'Traceback' not in proc.stdout
