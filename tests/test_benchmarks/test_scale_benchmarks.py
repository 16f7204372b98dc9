# Copyright (c) OpenMMLab. All rights reserved.
"""Smoke tests of benchmarks/supernet_cost_model.py and search_ranks.py
(tiny settings)."""
import math

import pytest


def test_supernet_cost_model(load_script, tmp_path):
    bench = load_script('supernet_cost_model')
    report = bench.main(['--samples', '2', '--gpus', '64', '--rate', '1e13',
                         '--json', str(tmp_path / 'cost.json')])
    spos, bignas = report['spos'], report['bignas']
    assert (spos['epochs'], spos['batch_per_gpu'], spos['config_gpus']) == (
        300, 128, 8)
    # one path a step, about the published 330 M of a SPOS subnet
    assert 300 < spos['forward_mmacs_per_image'] < 360
    p = spos['plan']
    assert p['total_macs'] == pytest.approx(
        3 * spos['forward_mmacs_per_image'] * 1e6 * 1281167 * 300)
    assert p['global_batch'] == 8192 and p['lr_factor'] == 8
    assert p['iters_per_epoch'] == math.ceil(1281167 / 8192)
    assert p['hours'] == pytest.approx(p['total_macs'] / 64 / 1e13 / 3600)
    # the sandwich: largest + smallest + 2 random subnets
    parts = bignas['parts']
    assert parts['max'] > parts['mean_random'] > parts['min'] > 0
    assert bignas['forward_mmacs_per_image'] == pytest.approx(
        parts['max'] + parts['min'] + 2 * parts['mean_random'])
    assert bignas['plan']['lr_factor'] == 2  # base batch 32 x 64
    assert (tmp_path / 'cost.json').is_file()


@pytest.mark.slow
def test_search_ranks_tiny(load_script, tmp_path):
    bench = load_script('search_ranks')
    report = bench.main(['--repeats', '1', '--supernet-epochs', '1',
                         '--generations', '1',
                         '--work-dir', str(tmp_path / 'runs')])
    # every rank calibrates on its own images: scores may differ (scale.md)
    assert isinstance(report['same_results'], bool)
    assert report['median_loop_s']['2'] > 0
    assert report['evaluated'] >= 8
    assert set(report['wall_s']) == {'1', '2', "1'"}
    assert report['ratio_2_over_1'] > 0
