# Copyright (c) OpenMMLab. All rights reserved.
"""Smoke test of benchmarks/estimator_cost_table.py (no timing checks)."""
import importlib.util
import json
import os.path as osp

SCRIPT = osp.join(
    osp.dirname(osp.abspath(__file__)), *[osp.pardir] * 4, 'benchmarks',
    'estimator_cost_table.py')


def test_benchmark_runs_and_agrees(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('estimator_cost_table',
                                                  SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out_json = tmp_path / 'figures.json'
    report = bench.main([
        '--num', '2', '--cpu-num', '1', '--input-size', '64', '--threads',
        '1', '--json',
        str(out_json)
    ])
    assert report['parity_ok'] and report['max_rel_diff'] <= 1e-6
    assert report['candidate_ops'] == 80
    assert [report['methods'][m]['n'] for m in ('table', 'meta', 'cpu')] == \
        [2, 2, 1]
    assert json.loads(out_json.read_text())['num'] == 2
    printed = capsys.readouterr().out
    assert 'x table (median)' in printed and 'OK' in printed
