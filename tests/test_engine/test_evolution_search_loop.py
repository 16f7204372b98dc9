# Copyright (c) OpenMMLab. All rights reserved.
import csv
import json
import os.path as osp

import pytest
import torch
import yaml
from mmengine.runner import Runner

from mmrazor.engine import EvolutionSearchLoop


def run_search(cfg, fail_after=None, resume=False):
    """Run a search; optionally kill it after ``fail_after`` evaluations."""
    cfg.resume = resume
    runner = Runner.from_cfg(cfg)
    loop = runner.build_train_loop(runner._train_loop)
    runner._train_loop = loop
    calls = []
    original = loop._evaluate

    def counting(choices, key):
        if fail_after is not None and len(calls) == fail_after:
            raise KeyboardInterrupt('killed')
        calls.append(key)
        return original(choices, key)

    loop._evaluate = counting
    runner.train()
    return runner, loop, calls


def test_search_outputs_and_constraints(make_search_cfg, tmp_path):
    runner, loop, calls = run_search(make_search_cfg(tmp_path))
    assert isinstance(loop, EvolutionSearchLoop)
    # No candidate was evaluated twice.
    assert len(calls) == len(set(calls)) == len(loop.records)
    assert len(loop.records) > loop.num_candidates
    for rec in loop.records.values():
        assert 0 <= rec['resources']['flops'] <= 4.5
    best = loop.records[loop.top_k_keys[0]]
    assert best['score'] == max(r['score'] for r in loop.records.values())
    with open(osp.join(tmp_path, 'best_fix_subnet.yaml')) as f:
        subnet = yaml.safe_load(f)
    assert {k: v['chosen'] for k, v in subnet.items()} == best['choices']
    assert all(k.startswith('backbone.layers.') for k in subnet)
    with open(osp.join(tmp_path, 'search_candidates.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(loop.records)
    assert float(rows[0]['score']) == best['score']
    with open(osp.join(tmp_path, 'search_state.json')) as f:
        state = json.load(f)
    assert state['epoch'] == 3
    assert osp.getsize(osp.join(tmp_path, 'search_pareto.png')) > 1000


@pytest.fixture
def supernet_ckpt(make_search_cfg, tmp_path):
    """A checkpoint of the tiny SPOS supernet (random weights)."""
    runner = Runner.from_cfg(make_search_cfg(tmp_path / 'init'))
    path = str(tmp_path / 'supernet.pth')
    torch.save({'state_dict': runner.model.state_dict()}, path)
    return path


@pytest.mark.parametrize('kill_after', [3, 8])  # first and second epoch
def test_killed_and_resumed_equals_uninterrupted(make_search_cfg, tmp_path,
                                                 supernet_ckpt, kill_after):
    def cfg(name):
        return make_search_cfg(tmp_path / name)

    ref_cfg = cfg('ref')
    ref_cfg.load_from = supernet_ckpt
    _, ref, ref_calls = run_search(ref_cfg)
    killed_cfg = cfg('killed')
    killed_cfg.load_from = supernet_ckpt
    with pytest.raises(KeyboardInterrupt):
        run_search(killed_cfg, fail_after=kill_after)
    # `--resume` without a path: no load_from; the search state names the
    # supernet checkpoint the interrupted run used.
    runner, resumed, calls = run_search(cfg('killed'), resume=True)
    assert resumed.records == ref.records
    assert resumed.top_k_keys == ref.top_k_keys
    # The resumed run evaluated only what the killed run had not.
    assert len(calls) == len(ref_calls) - kill_after
    assert not set(calls) & set(ref_calls[:kill_after])


def test_does_not_overwrite_a_previous_search(make_search_cfg, tmp_path):
    run_search(make_search_cfg(tmp_path, max_epochs=1))
    with pytest.raises(FileExistsError, match='--resume'):
        run_search(make_search_cfg(tmp_path, max_epochs=1))


def test_impossible_constraints(make_search_cfg, tmp_path):
    cfg = make_search_cfg(
        tmp_path, constraints_range=dict(flops=(0., 0.1)),
        max_sample_attempts=3)
    with pytest.raises(RuntimeError, match='Widen the range'):
        run_search(cfg)


def test_small_space_is_searched_exhaustively(make_search_cfg, tmp_path):
    """4 groups x 4 choices under a budget: fewer valid subnets than the
    search asks for; it evaluates each once and ends."""
    cfg = make_search_cfg(
        tmp_path, constraints_range=dict(flops=(0., 3.9)), num_candidates=6,
        max_epochs=4, max_sample_attempts=20)
    _, loop, calls = run_search(cfg)
    assert len(calls) == len(set(calls)) == len(loop.records)


@pytest.mark.parametrize('kwargs, match', [
    (dict(top_k=10), '`top_k`'),
    (dict(mutate_prob=1.5), '`mutate_prob`'),
    (dict(constraints_range=dict(macs=(0, 1))), "'macs'"),
])
def test_bad_arguments(make_search_cfg, tmp_path, kwargs, match):
    cfg = make_search_cfg(tmp_path, **kwargs)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match=match):
        runner.build_train_loop(runner._train_loop)
