# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/demo_autoslim.py``: uniform widths at a FLOPs budget, and the
whole pipeline with ``--quick`` (one epoch per stage on 64 images, a short
greedy walk; the accuracies mean nothing there)."""
import json

import pytest
import yaml
from mmengine.config import Config

from mmrazor.registry import MODELS

from .conftest import ROOT, TOOLS, run_dirs, run_tool

DEMO = TOOLS / 'demo_autoslim.py'
DEMO_DIR = ROOT / 'configs' / 'pruning' / 'mmcls' / 'autoslim' / 'demo'


@pytest.fixture(scope='module')
def counter(load_tool):
    demo = load_tool('demo_autoslim')
    cfg = Config.fromfile(str(DEMO_DIR / 'autoslim_mbv2_slimmable_digits.py'))
    return demo, demo.flops_counter(cfg)


def test_uniform_widths_at_a_budget(counter, load_tool):
    demo, count = counter
    cfg = Config.fromfile(str(DEMO_DIR / 'autoslim_mbv2_supernet_digits.py'))
    # the units of the search's yaml files: ratio choices, divisor 4
    template = MODELS.build(cfg.model).mutator.config_template()
    assert {u['choice'] for u in template.values()} == {1.0}
    full = count(template)
    assert full == pytest.approx(2.186752, abs=1e-6)  # the search's figure
    half = demo.uniform_subnet(template, 0.5)
    assert all(u['choice'] == u['init_args']['num_channels'] // 2
               for u in half.values()
               if u['init_args']['num_channels'] % 8 == 0)
    best = demo.widest_uniform(template, 1.2, count)
    assert best['flops'] <= 1.2
    above = demo.uniform_subnet(template, best['ratio'] + 1 / 128)
    assert count(above) > 1.2 or above == best['subnet']
    with pytest.raises(ValueError, match='no uniform width'):
        demo.widest_uniform(template, 0.001, count)


def test_bad_arguments(load_tool):
    demo = load_tool('demo_autoslim')
    for argv in (['--supernet-epochs', '0'], ['--retrain-epochs', '-1']):
        with pytest.raises(SystemExit):
            demo.parse_args(argv)
    args = demo.parse_args(['--quick'])
    assert (args.supernet_epochs, args.retrain_epochs) == (1, 1)


def test_quick_run(tmp_path):
    work_dir = tmp_path / 'work'
    out = run_tool([DEMO, '--quick', '--work-dir', work_dir]).stdout
    assert '[1/4] AutoSlim supernet, 1 epochs' in out
    assert 'found   epoch 1/1: val top-1 subnet_0.' in out
    assert 'uniform epoch 1/1: val top-1 subnet_0.' in out
    assert '==== AutoSlim on digits: report ====' in out
    (run_dir, ) = run_dirs(work_dir)
    report = json.loads((run_dir / 'report.json').read_text())
    assert report['quick'] and report['val_images'] == 64
    assert [r['target'] for r in report['rows']] == [2.1, 2.0, 1.9]
    for row in report['rows']:
        assert row['uniform_mflops'] <= row['found_mflops'] <= row['target']
        assert row['gain'] == pytest.approx(
            row['found_accuracy'] - row['uniform_accuracy'])
        with open(row['uniform_subnet']) as f:
            uniform = yaml.safe_load(f)
        widths = {u['choice'] / u['init_args']['num_channels']
                  for u in uniform.values()}
        assert max(widths) - min(widths) < 0.3  # one ratio, rounded
