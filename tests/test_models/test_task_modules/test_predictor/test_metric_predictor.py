# Copyright (c) OpenMMLab. All rights reserved.
import itertools
import json
import math

import numpy as np
import pytest

from mmrazor.models.task_modules.predictor import MetricPredictor
from mmrazor.registry import TASK_UTILS

pytest.importorskip('sklearn')

GROUPS = {'a': ['x', 'y', 'z'], 'b': [1, 2, 3, 4], 'c': ['p', 'q']}
SPACE = [
    dict(zip(GROUPS, values))
    for values in itertools.product(*GROUPS.values())
]


def true_score(choices):
    """An additive score with an interaction: what the handlers learn."""
    a = GROUPS['a'].index(choices['a'])
    return 2.0 * a + choices['b'] - 3.0 * (choices['c'] == 'q') + 0.5 * (
        a == 2 and choices['b'] == 4)


def build(handler, **kwargs):
    return TASK_UTILS.build(
        dict(
            type='mmrazor.MetricPredictor',
            handler_cfg=dict(type=f'mmrazor.{handler}', **kwargs),
            search_groups=GROUPS,
            train_samples=12))


def test_encodings_by_hand():
    pred = build('GaussProcessHandler')
    vec = pred.model2vector({'a': 'z', 'b': 2, 'c': 'p'})
    assert vec['normal_vector'] == [2, 1, 0]
    assert vec['onehot_vector'] == [0, 0, 1, 0, 1, 0, 0, 1, 0]
    assert pred.encode([{'a': 'z', 'b': 2, 'c': 'p'}]).shape == (1, 9)
    for choices in SPACE[:5]:
        assert pred.vector2model(pred.encode([choices])[0]) == choices
    # RBF needs the index encoding, whatever the config says.
    rbf = build('RBFHandler')
    assert rbf.encoding_type == 'normal'
    assert rbf.encode([{'a': 'z', 'b': 2, 'c': 'p'}]).tolist() == [[2, 1, 0]]


def test_correlation_by_hand():
    rmse, rho, tau = MetricPredictor.get_correlation([1., 2., 3.],
                                                     [1., 3., 2.])
    # one discordant pair of three: (2 - 1) / 3
    assert tau == pytest.approx(1 / 3)
    assert rho == pytest.approx(0.5)
    assert rmse == pytest.approx(math.sqrt(2 / 3))


@pytest.mark.parametrize('handler, kwargs, min_tau', [
    ('GaussProcessHandler', {}, 0.8),
    ('GaussProcessHandler', dict(regr='constant', corr='exp'), 0.6),
    ('MLPHandler', dict(epochs=200, model_cfg=dict(hidden_features=32)), 0.6),
    ('RBFHandler', {}, 0.8),
    ('CartsHandler', dict(num_trees=50), 0.6),
])
def test_handlers_rank_unseen_subnets(handler, kwargs, min_tau):
    rng = np.random.RandomState(0)
    order = rng.permutation(len(SPACE))
    train, test = order[:12], order[12:]
    pred = build(handler, **kwargs)
    pred.fit([SPACE[i] for i in train], [true_score(SPACE[i]) for i in train])
    scores = pred.predict([SPACE[i] for i in test])
    _, _, tau = pred.get_correlation(scores,
                                     [true_score(SPACE[i]) for i in test])
    assert tau >= min_tau, (handler, tau)


def test_rbf_interpolates_and_reproduces_its_linear_tail():
    pred = build('RBFHandler')
    train = [SPACE[i] for i in np.random.RandomState(1).permutation(24)[:10]]
    labels = [true_score(c) for c in train]
    pred.fit(train, labels)
    np.testing.assert_allclose(pred.predict(train), labels, atol=1e-6)

    # A linear function of the indices is reproduced exactly everywhere.
    def linear(c):
        return 2.0 * GROUPS['a'].index(c['a']) + c['b'] - 3 * (c['c'] == 'q')

    pred.fit(train, [linear(c) for c in train])
    np.testing.assert_allclose(
        pred.predict(SPACE), [linear(c) for c in SPACE], atol=1e-6)
    # Samples that never vary one group cannot fit the linear tail.
    with pytest.raises(ValueError, match='vary'):
        pred.fit(SPACE[::2], [true_score(c) for c in SPACE[::2]])


def test_carts_mean_of_trees():
    """One tree on all features fits the samples; a constant stays so."""
    pred = build('CartsHandler', num_trees=7)
    pred.fit(SPACE[:6], [3.0] * 6)
    np.testing.assert_allclose(pred.predict(SPACE), 3.0)
    assert len(pred.handler.model) == 7
    pred.fit(SPACE[:6], [true_score(c) for c in SPACE[:6]])
    trees = pred.handler.model
    manual = np.mean([
        tree.predict(pred.encode(SPACE)[:, feats]) for feats, tree in trees
    ], axis=0)
    np.testing.assert_allclose(pred.predict(SPACE), manual)


@pytest.mark.parametrize('handler', ['GaussProcessHandler', 'MLPHandler',
                                     'CartsHandler'])
def test_checkpoint_refits_the_same_predictor(handler, tmp_path):
    kwargs = dict(num_trees=20) if handler == 'CartsHandler' else {}
    if handler == 'MLPHandler':
        kwargs = dict(epochs=30, model_cfg=dict(hidden_features=16))
    pred = build(handler, **kwargs)
    pred.fit(SPACE[:10], [true_score(c) for c in SPACE[:10]])
    path = pred.save_checkpoint(str(tmp_path / 'predictor'))
    assert path.endswith(f'predictor_{handler.lower()}.json')
    with open(path) as f:
        assert len(json.load(f)['samples']) == 10
    loaded = TASK_UTILS.build(
        dict(
            type='mmrazor.MetricPredictor',
            handler_cfg=dict(type=f'mmrazor.{handler}', **kwargs),
            search_groups=GROUPS,
            handler_ckpt=path))
    loaded.load_checkpoint()
    np.testing.assert_array_equal(loaded.predict(SPACE), pred.predict(SPACE))


def test_errors_name_the_field():
    with pytest.raises(ValueError, match=r"`regr` must be one of .*'cubic'"):
        build('GaussProcessHandler', regr='cubic')
    with pytest.raises(ValueError, match=r"`kernel` must be one of .*'gauss'"):
        build('RBFHandler', kernel='gauss')
    with pytest.raises(ValueError, match='drop'):
        build('MLPHandler', model_cfg=dict(drop=0.1))
    with pytest.raises(ValueError, match='encoding_type'):
        MetricPredictor(dict(type='mmrazor.CartsHandler'), GROUPS,
                        encoding_type='binary')
    pred = build('CartsHandler', num_trees=2)
    with pytest.raises(RuntimeError, match='fit'):
        pred.predict(SPACE[:1])
    with pytest.raises(ValueError, match='one choice per search group'):
        pred.model2vector({'a': 'x'})
    with pytest.raises(ValueError, match="choice 9 of 'b'"):
        pred.model2vector({'a': 'x', 'b': 9, 'c': 'p'})
    rbf = build('RBFHandler')
    with pytest.raises(ValueError, match='Raise train_samples'):
        rbf.fit(SPACE[:3], [1., 2., 3.])
