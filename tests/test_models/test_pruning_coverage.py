# Copyright (c) OpenMMLab. All rights reserved.
"""The pruning coverage matrix: mmcls models analysed, pruned to 50% with
L1 units, exported and checked (see :mod:`mmrazor.testing.pruning_matrix`).

Unit counts are pinned, so a change of the analyzer or of the mutator's
coverage shows up here; the docs table must match the generated one.
"""
import copy
import importlib.util
import re
from pathlib import Path

import pytest
import torch

from mmrazor.testing import pruning_matrix as pm

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / 'docs' / 'en' / 'user_guides' / 'pruning_coverage.md'
TOOL = ROOT / 'tools' / 'pruning' / 'coverage_table.py'

# name: (prunable units, excluded units).
EXPECTED = {
    'resnet18': (12, 2),
    'resnet50': (37, 2),
    'resnext50_32x4d': (5, 34),
    'mobilenet_v2': (25, 2),
    'mobilenet_v3_small': (26, 2),
    'mobilenet_v3_large': (29, 2),
    'shufflenet_v1': (0, 38),
    'shufflenet_v2': (18, 37),
    'regnetx_400mf': (5, 46),
    'efficientnet_b0': (40, 2),
    'vgg11': (10, 2),
    'convnext_small_arch': (5, 6),
    'convnext_small_arch_no_ls': (9, 2),
    'convnext_tiny': (18, 6),
    'deit_tiny': (12, 27),
}
NOT_PRUNABLE = {
    'shufflenet_v1': 'channel shuffle',
}


@pytest.fixture(scope='module')
def record():
    """``record(name)``: the :func:`prune_case` record, computed once."""
    cache = {}

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = pm.prune_case(pm.CASE_BY_NAME[name])
        return cache[name]

    return get


def test_cases_are_pinned():
    assert list(EXPECTED) == [c.name for c in pm.CASES]


@pytest.mark.parametrize('name', list(EXPECTED))
def test_prune_to_half(name, record):
    r = record(name)
    assert (r['prunable_units'], r['excluded_units']) == EXPECTED[name], r
    assert r['prunable'] == (name not in NOT_PRUNABLE)
    assert r['parity_ok'], r['parity']
    assert r['left'] == 0
    if name in NOT_PRUNABLE:
        assert any(NOT_PRUNABLE[name] in k for k in r['reasons'])
        assert r['params'][0] == r['params'][1]
        return
    assert r['reference_ok'] is not False, r['reference']
    assert r['params'][1] < r['params'][0]
    assert r['flops'][1] < r['flops'][0]
    # every model has an input and an output that must keep their channels
    assert r['reasons']['model input'] == r['reasons']['model output'] == 1


def test_reference_runs_where_no_norm_mixes_channels(record):
    assert record('resnet50')['reference_ok'] is True
    assert record('vgg11')['reference_ok'] is True
    assert record('convnext_tiny')['reference'] is None


def test_parity_catches_wrong_batch_norm_statistics():
    """The random BN statistics make a plausible export bug visible: a
    static BN that keeps the first half of the running statistics instead
    of the L1-selected channels."""
    from mmrazor.models import ChannelMutator
    from mmrazor.models.utils import export_static_model

    model = pm.CASE_BY_NAME['resnet18'].build()
    model.eval()
    pm.randomise_norms(model)
    original_bn = copy.deepcopy(model.backbone.bn1)
    mutator = ChannelMutator(
        channel_unit_cfg=dict(
            type='L1MutableChannelUnit',
            default_args=dict(choice_mode='ratio')),
        parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 32, 32)))
    mutator.prepare_from_supernet(model)
    mutator.set_choices({k: 0.5 for k in mutator.choices})
    static = export_static_model(model)
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = pm.logits(model, x)
        assert torch.equal(pm.logits(static, x), expected)
        static.backbone.bn1.running_mean = original_bn.running_mean[:32]
        static.backbone.bn1.running_var = original_bn.running_var[:32]
        assert (pm.logits(static, x) - expected).abs().max() > 1e-3


def test_short_reason():
    assert pm.short_reason(
        'channel shuffle: channels split into groups') == 'channel shuffle'
    assert pm.short_reason('the channel dim is sliced with fixed bounds; '
                           'pruning would move channels') == \
        'the channel dim is sliced with fixed bounds'
    assert pm.short_reason('the input channels of backbone.layers.11.attn.'
                           'proj do not come') == \
        'the input channels of backbone.layers.*.attn.proj do not come'
    assert pm.short_reason("backbone.conv: Conv2d has no dynamic op "
                           "(known: ['Linear'])") == \
        'Conv2d has no dynamic op'


def test_run_matrix_rejects_unknown_names():
    with pytest.raises(KeyError, match='resnet-18'):
        pm.run_matrix(['resnet-18'])


def _all_records(record):
    return [record(c.name) for c in pm.CASES]


def test_docs_table_is_the_generated_one(record):
    table = pm.coverage_table(_all_records(record))
    text = DOC.read_text()
    found = re.search(r'^\| model \|.*?(?=\n\n|\Z)', text, re.S | re.M)
    assert found, f'{DOC} has no coverage table'
    assert found.group().strip() == table, (
        'the table of docs/en/user_guides/pruning_coverage.md is stale; '
        'regenerate it with tools/pruning/coverage_table.py')


def test_coverage_table_tool(record, monkeypatch, capsys, tmp_path):
    spec = importlib.util.spec_from_file_location('coverage_table', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    chosen = [record('resnet18'), record('shufflenet_v1')]
    monkeypatch.setattr(pm, 'run_matrix', lambda names, ratio: chosen)
    out = tmp_path / 'records.json'
    assert tool.main(['--models', 'resnet18', 'shufflenet_v1', '--json',
                      str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.strip() == pm.coverage_table(chosen)
    assert out.exists()
    with pytest.raises(SystemExit):  # refuses to overwrite
        tool.main(['--json', str(out)])
    broken = dict(chosen[0], parity_ok=False, parity=1.0)
    assert tool.failures(broken) == ['parity (max diff 1.00e+00)']
    assert tool.failures(chosen[1]) == []
