# Copyright (c) OpenMMLab. All rights reserved.
"""Smoke test of benchmarks/spos_supernet_vs_static.py (no timing checks)."""
import json
import math


def test_spos_benchmark_tiny(load_script, tmp_path, capsys):
    bench = load_script('spos_supernet_vs_static')
    out_json = tmp_path / 'figures.json'
    report = bench.main([
        '--batch-sizes', '1', '--repeats', '2', '--warmup', '0',
        '--input-size', '64', '--threads', '1', '--bootstrap', '20',
        '--control', '--json',
        str(out_json)
    ])

    # Parity between the supernet at the yaml choice and its static model.
    assert report['parity_ok']
    assert report['max_abs_diff'] <= 1e-5
    (result, ) = report['subnets'].values()
    assert result['module_calls']['supernet'] > 0
    entry = result['batches']['1']
    for key in ('ratio_median', 'ratio_min', 'ratio_paired_median',
                'ratio_cpu_median'):
        assert math.isfinite(entry[key]) and entry[key] > 0
    stats = entry['stats']
    assert stats['supernet']['n'] == stats['static']['n'] == 2
    assert len(entry['ratio_bootstrap95']) == 2
    # The A/A control: a copy of the static model against the static model.
    assert stats['static_copy']['n'] == 2
    assert math.isfinite(entry['control']['ratio_median'])

    printed = capsys.readouterr().out
    assert 'parity: max |supernet - static| =' in printed
    assert 'ratio supernet/static of medians' in printed

    saved = json.loads(out_json.read_text())
    assert saved['max_abs_diff'] == report['max_abs_diff']
    assert saved['meta']['input_size'] == 64
    assert saved['subnets'].keys() == report['subnets'].keys()


def test_spos_benchmark_help(load_script, capsys):
    bench = load_script('spos_supernet_vs_static')
    try:
        bench.parse_args(['--help'])
    except SystemExit as exc:
        assert exc.code == 0
    assert '--random' in capsys.readouterr().out
