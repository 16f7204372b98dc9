# Copyright (c) OpenMMLab. All rights reserved.
"""Smoke test of benchmarks/distill_step_overhead.py (no timing checks)."""
import json
import math

import pytest


def test_distill_benchmark_tiny(load_script, tmp_path, capsys):
    bench = load_script('distill_step_overhead')
    out_json = tmp_path / 'figures.json'
    report = bench.main([
        '--batch-size', '2', '--input-size', '16', '--teacher-width', '8',
        '--student-width', '4', '--repeats', '2', '--warmup', '0',
        '--threads', '1', '--bootstrap', '20', '--control', '--profile', '1',
        '--json',
        str(out_json)
    ])

    # Same weights, same batch: same losses and the same SGD update.
    assert report['parity']['parity_ok']
    assert set(report['parity']['losses']) == {
        'student.loss', 'distill.loss_at_layer3', 'distill.loss_at_layer4'
    }
    ratio = report['ratio']
    for key in ('ratio_median', 'ratio_min', 'ratio_paired_median',
                'ratio_cpu_median'):
        assert math.isfinite(ratio[key]) and ratio[key] > 0
    assert len(ratio['ratio_bootstrap95']) == 2
    stats = report['stats']
    assert stats['distill']['n'] == stats['plain']['n'] == 2
    # The A/A control: a second plain loop against the first.
    assert stats['plain_copy']['n'] == 2
    assert math.isfinite(report['control']['ratio_median'])
    assert report['profile']['distill_python_calls_per_step'] > 0

    printed = capsys.readouterr().out
    assert 'ratio distill/plain of medians' in printed
    assert 'ratio plain_copy/plain of medians' in printed

    saved = json.loads(out_json.read_text())
    assert saved['ratio']['ratio_median'] == ratio['ratio_median']
    assert saved['meta']['input_size'] == 16
    # --json refuses to overwrite.
    with pytest.raises(FileExistsError):
        bench.main(['--repeats', '1', '--json', str(out_json)])


def test_distill_benchmark_help(load_script, capsys):
    bench = load_script('distill_step_overhead')
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(['--help'])
    assert exc.value.code == 0
    assert '--student-width' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.parse_args(['--repeats', '0'])
