# Copyright (c) OpenMMLab. All rights reserved.
"""EvolutionSearchLoop with a metric predictor (``predictor_cfg``)."""
import csv
import json
import os.path as osp

import pytest
from mmengine.config import Config

from .test_evolution_search_loop import run_search


@pytest.fixture(autouse=True)
def plain_config_text(monkeypatch):
    """The runner logs its config as yapf-formatted text, which takes
    seconds; plain text does (nothing here reads it)."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))

pytest.importorskip('sklearn')


def predictor_cfg(**kwargs):
    cfg = dict(
        type='mmrazor.MetricPredictor',
        train_samples=5,
        handler_cfg=dict(type='mmrazor.CartsHandler', num_trees=20))
    cfg.update(kwargs)
    return cfg


def test_predicted_search(make_search_cfg, tmp_path):
    cfg = make_search_cfg(
        tmp_path, predictor_cfg=predictor_cfg(), verify_top_k=2)
    _, loop, calls = run_search(cfg)
    records = loop.records.values()
    trained = [r for r in records if r['epoch'] == -1]
    predicted = [r for r in records if r.get('predicted')]
    verified = [
        r for r in records if 'predicted_score' in r and not r['predicted']
    ]
    assert len(trained) == 5 and not any('predicted_score' in r
                                         for r in trained)
    # Only the training subnets and the 2 verified ones were evaluated.
    assert len(verified) == 2
    assert len(calls) == len(set(calls)) == 7
    assert set(calls) == {r['key'] for r in trained + verified}
    assert len(predicted) == len(loop.records) - 7 > 10
    # The verified ones are the best predicted ones ...
    best_predicted = max(r['predicted_score'] for r in predicted)
    assert all(r['predicted_score'] >= best_predicted for r in verified)
    # ... and the best is the best evaluated subnet.
    assert loop.best['score'] == max(r['score'] for r in trained + verified)
    assert not loop.best.get('predicted')
    assert loop.predictor.predictor.samples == [
        (r['choices'], r['score']) for r in trained
    ]
    with open(osp.join(tmp_path, 'search_candidates.csv')) as f:
        rows = list(csv.DictReader(f))
    assert rows[0]['predicted'] == 'False'
    assert float(rows[0]['score']) == loop.best['score']
    assert sum(row['predicted'] == 'True' for row in rows) == len(predicted)
    with open(osp.join(tmp_path, 'predictor_cartshandler.json')) as f:
        assert len(json.load(f)['samples']) == 5


def test_predictor_from_an_earlier_search(make_search_cfg, tmp_path):
    _, first, _ = run_search(make_search_cfg(tmp_path / 'a', max_epochs=1))
    state = str(tmp_path / 'a' / 'search_state.json')
    cfg = make_search_cfg(
        tmp_path / 'b',
        max_epochs=1,
        predictor_cfg=predictor_cfg(train_samples=state),
        verify_top_k=0)
    _, loop, calls = run_search(cfg)
    # Fitted on the first search's scores: nothing evaluated at all.
    assert calls == []
    assert len(loop.predictor.predictor.samples) == len(first.records)
    assert all(r['predicted'] for r in loop.records.values())


def test_killed_and_resumed_equals_uninterrupted(make_search_cfg, tmp_path):
    """Killed while verifying (5 fitting + 1 verified evaluations)."""
    def cfg(name):
        return make_search_cfg(
            tmp_path / name, predictor_cfg=predictor_cfg(), verify_top_k=2,
            max_epochs=1)

    # Same seed, same initial weights: no checkpoint needed.
    _, ref, ref_calls = run_search(cfg('ref'))
    with pytest.raises(KeyboardInterrupt):
        run_search(cfg('killed'), fail_after=6)
    _, resumed, calls = run_search(cfg('killed'), resume=True)
    assert resumed.records == ref.records
    assert resumed.top_k_keys == ref.top_k_keys
    assert calls == ref_calls[6:]


def test_bad_predictor_cfg(make_search_cfg, tmp_path):
    with pytest.raises(TypeError, match='predictor_cfg must be a dict'):
        run_search(make_search_cfg(tmp_path, predictor_cfg='gp'))
    with pytest.raises(ValueError, match='verify_top_k'):
        run_search(
            make_search_cfg(
                tmp_path, predictor_cfg=predictor_cfg(), verify_top_k=-1))


def test_verify_per_epoch_refits_and_resumes(make_search_cfg, tmp_path):
    """2 best predicted subnets of each generation are evaluated; the
    predictor is refitted on them before the next one; a run killed in
    the second generation ends as the uninterrupted one."""
    def cfg(name):
        return make_search_cfg(
            tmp_path / name, predictor_cfg=predictor_cfg(), verify_top_k=1,
            verify_per_epoch=2, max_epochs=2)

    _, ref, ref_calls = run_search(cfg('ref'))
    per_epoch = {
        e: [r for r in ref.records.values()
            if r['epoch'] == e and 'predicted_score' in r
            and not r['predicted']] for e in (0, 1)
    }
    assert all(len(v) >= 2 for v in per_epoch.values())
    # the second generation's predictor saw the first's evaluations
    samples = [c for c, _ in ref.predictor.predictor.samples]
    assert all(r['choices'] in samples for r in per_epoch[0])
    assert len(samples) == 5 + len(per_epoch[0])
    # 5 to fit, 2 + 2 per generation, at most 1 more at the end
    assert 9 <= len(ref_calls) <= 10
    with pytest.raises(KeyboardInterrupt):
        run_search(cfg('killed'), fail_after=8)
    _, resumed, calls = run_search(cfg('killed'), resume=True)
    assert resumed.records == ref.records
    assert calls == ref_calls[8:]
