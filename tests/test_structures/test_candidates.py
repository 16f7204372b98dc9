# Copyright (c) OpenMMLab. All rights reserved.
"""``Candidates``, the original MMRazor's population structure."""
import pytest

from mmrazor.structures.subnet import Candidates


def test_entries_indicators_and_sorting():
    a, b = {'l1': 'k3', 'l2': 'k5'}, {'l1': 'k7', 'l2': 'k3'}
    candidates = Candidates([a, b])
    assert candidates.subnets == [a, b]
    # not estimated yet: -1 everywhere
    assert candidates.scores == [-1.0, -1.0]
    candidates.update_resources([dict(flops=30.0, params=2.0),
                                 dict(flops=10.0, params=1.0)])
    candidates.set_score(0, 50.123)
    candidates.set_score(1, 70.0)
    assert candidates.resources('flops') == [30.0, 10.0]
    assert candidates.scores == [50.12, 70.0]
    candidates.sort_by('score')
    assert candidates.subnets == [b, a]
    candidates.sort_by('flops', reverse=False)
    assert candidates.subnets == [b, a]
    candidates.insert(0, {'l1': 'k5', 'l2': 'k5'})
    assert len(candidates) == 3 and candidates.scores[0] == -1.0


def test_items_with_resources_and_the_originals_keys():
    # the original keyed items by the repr of the subnet dict
    original = {"{'l1': 'k3', 'l2': 'k5'}": {'score': 80.0, 'flops': 9.0}}
    candidates = Candidates(original)
    assert candidates.subnets == [{'l1': 'k3', 'l2': 'k5'}]
    assert candidates.resources('params') == [0.0]  # missing: 0
    candidates.extend(Candidates({'l1': 'k7', 'l2': 'k7'}))
    assert len(candidates) == 2


def test_bad_input_is_named():
    with pytest.raises(ValueError, match='not a subnet dict'):
        Candidates({'__import__("os").system("true")': {'score': 1.0}})
    with pytest.raises(KeyError, match="unknown indicator 'acc'"):
        Candidates({'l1': 'k3'}).sort_by('acc')
    with pytest.raises(KeyError, match="unknown indicator 'score'"):
        Candidates({'l1': 'k3'}).resources('score')
    with pytest.raises(IndexError, match='do not fit 1 candidates'):
        Candidates({'l1': 'k3'}).update_resources([{}, {}])
    with pytest.raises(TypeError, match='non-empty subnet dict'):
        Candidates([{}])
