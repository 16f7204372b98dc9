# Copyright (c) OpenMMLab. All rights reserved.
"""Smoke test of benchmarks/search_predictor.py (tiny settings)."""
import json
import math

import pytest
import torch
from mmengine.config import Config

pytest.importorskip('sklearn')


def test_search_predictor_benchmark_tiny(load_script, tmp_path, capsys,
                                         monkeypatch):
    # the runner's yapf dump of its config takes seconds; nothing reads it
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))
    bench = load_script('search_predictor')
    # an untrained supernet: the script's training is tools/demo.py's
    from mmengine.registry import DefaultScope

    from mmrazor.registry import MODELS
    cfg = bench.supernet_cfg(bench.parse_args(['--per-layer']))
    with DefaultScope.overwrite_default_scope('mmcls'):
        model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'supernet.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out = tmp_path / 'figures.json'
    report = bench.main([
        '--work-dir', str(tmp_path), '--supernet', ckpt,
        '--per-layer', '--pool', '8', '--train-samples', '4', '--splits',
        '1', '--generations', '1', '--population', '3', '--top-k', '2',
        '--verify-top-k', '1', '--verify-per-epoch', '0', '--calibrate',
        '16', '--cart-trees', '20',
        '--json', str(out)
    ])
    assert report['space'] == 'per layer'
    assert report['search_space_size'] == 64
    assert set(report['correlation']) == {
        'GaussProcessHandler', 'MLPHandler', 'RBFHandler', 'CartsHandler'}
    for name, figures in report['correlation'].items():
        if name == 'RBFHandler' and 'error' in figures:
            continue  # a linear tail needs 4 subnets varying every group
        tau = figures['kendall_tau']  # NaN if all 4 scores tie
        assert math.isnan(tau) or -1 <= tau <= 1
    plain, predicted = (report['searches'][k]
                        for k in ('plain', 'predictor'))
    assert plain['predicted'] == 0
    # 4 evaluated to fit, 1 verified
    assert predicted['evaluated'] == 5 and predicted['predicted'] > 0
    assert 1 <= plain['evaluations_to_best'] <= plain['evaluated']
    assert plain['best_at_predictor_budget'] <= plain['best_score']
    assert json.loads(out.read_text())['searches']['plain'][
        'evaluated'] == plain['evaluated']
    assert 'Kendall tau' in capsys.readouterr().out
