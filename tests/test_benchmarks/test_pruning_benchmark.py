# Copyright (c) OpenMMLab. All rights reserved.
"""Smoke test of benchmarks/pruning_vs_torch_pruning.py (no timing checks)."""
import json
import math

import pytest

pytest.importorskip('torch_pruning')


def test_pruning_benchmark_quick(load_script, tmp_path, capsys):
    bench = load_script('pruning_vs_torch_pruning')
    out_json = tmp_path / 'figures.json'
    report = bench.main([
        '--quick', '--analysis-models', 'mobilenet_v2', '--batch-sizes', '1',
        '--threads', '1', '--json',
        str(out_json)
    ])

    analysis = report['analysis']['mobilenet_v2']
    # Both find the same coupled groups of MobileNetV2 (classifier fc
    # ignored): 25 prunable units, plus our model input / output units.
    assert (analysis['units'], analysis['excluded_units']) == (25, 2)
    assert analysis['tp_groups'] == 25
    assert analysis['stats']['ours']['n'] == 2
    assert math.isfinite(analysis['ratio']['ratio_median'])

    pruning = report['pruning']
    # The same channel counts are pruned: identical layer shapes, MACs.
    assert pruning['same_shapes']
    counts = pruning['counts']
    for key in ('macs_estimator', 'macs_flop_counter', 'params'):
        assert counts['ours'][key] == pytest.approx(counts['tp'][key])
        assert counts['ours'][key] < 0.3 * counts['original'][key]
    entry = pruning['batches']['1']
    assert set(entry['stats']) == {'original', 'ours', 'tp', 'original_copy'}
    assert entry['speedup']['ours'] > 0 and entry['speedup']['tp'] > 0
    assert math.isfinite(entry['ours_vs_tp']['ratio_median'])
    assert math.isfinite(entry['control']['ratio_median'])

    printed = capsys.readouterr().out
    assert '(a) analysis' in printed and '(b) ResNet-50' in printed
    assert 'identical layer shapes: yes' in printed
    assert 'ratio ours/tp latency of medians' in printed

    saved = json.loads(out_json.read_text())
    assert saved['meta']['input_size'] == 32 and saved['meta']['quick']
    # --json refuses to overwrite.
    with pytest.raises(FileExistsError):
        bench.main(['--quick', '--json', str(out_json)])
