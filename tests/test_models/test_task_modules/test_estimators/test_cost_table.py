# Copyright (c) OpenMMLab. All rights reserved.
"""SubnetCostTable: lookups equal full estimates of static exports."""
import copy
import itertools
import json
import random
import time

import pytest
import torch.nn as nn

from mmrazor.models import (
    NasMutator,
    OneShotMutableOP,
    OneShotMutableValue,
    ResourceEstimator,
    SubnetCostTable,
    export_static_model,
)

RAW = dict(flops=None, params=None)


@pytest.fixture(scope='module')
def spos_table(imagenet_supernet):
    supernet, mutator = imagenet_supernet
    estimator = ResourceEstimator(input_shape=(1, 3, 224, 224))
    return estimator, SubnetCostTable.build(supernet, mutator, estimator)


def _static_export(supernet: nn.Module, mutator: NasMutator) -> nn.Module:
    """``export_static_model`` of a copy of ``supernet`` that shares (does
    not copy) the candidates off the current path: the same static model,
    without deep-copying 80 candidate ops each time."""
    memo = {}
    for mutable in mutator.mutables.values():
        for name, op in mutable._candidates.items():
            if name != mutable.current_choice:
                memo[id(op)] = op
    return export_static_model(copy.deepcopy(supernet, memo), inplace=True)


def test_random_subnets_equal_static_export(imagenet_supernet, spos_table):
    supernet, mutator = imagenet_supernet
    estimator, table = spos_table
    random.seed(0)
    for _ in range(20):
        choices = mutator.sample_choices()
        mutator.set_choices(choices)
        static = _static_export(supernet, mutator)
        assert not any(
            isinstance(m, OneShotMutableOP) for m in static.modules())
        full = estimator.estimate(static)
        got = table.estimate(choices)
        for key in ('flops', 'params'):
            assert got[key] == pytest.approx(full[key], rel=1e-6), key


def test_published_subnet_and_lookup_speed(spos_table, spos_subnet_choices):
    _, table = spos_table
    assert table.units == dict(flops='M', params='M')
    got = table.estimate(spos_subnet_choices)
    assert got['flops'] == pytest.approx(327.54432, rel=1e-9)
    assert got['params'] == pytest.approx(3.353592, rel=1e-9)
    # the per-choice costs and the fixed cost add up to the estimate
    for kind in ('flops', 'params'):
        costs = table.choice_costs(kind)
        total = table.fixed_cost(kind) + sum(
            costs[k][c] for k, c in spos_subnet_choices.items())
        assert total == pytest.approx(got[kind], rel=1e-12)
    with pytest.raises(ValueError, match="one of \\['flops', 'params'\\]"):
        table.choice_costs('latency')
    start = time.perf_counter()
    for _ in range(1000):
        table.estimate(spos_subnet_choices)
    assert (time.perf_counter() - start) / 1000 < 1e-3  # < 1 ms a subnet


def test_json_round_trip(imagenet_supernet, spos_table):
    _, mutator = imagenet_supernet
    _, table = spos_table
    data = json.loads(json.dumps(table.to_dict()))
    loaded = SubnetCostTable.from_dict(data)
    assert loaded.choices == mutator.choices
    assert loaded.input_shape == (1, 3, 224, 224)
    random.seed(1)
    for _ in range(3):
        choices = mutator.sample_choices()
        assert loaded.estimate(choices) == table.estimate(choices)
    with pytest.raises(ValueError, match='SubnetCostTable.to_dict'):
        SubnetCostTable.from_dict({'costs': {}})
    with pytest.raises(ValueError, match=r"units\['flops'\]"):
        SubnetCostTable({}, dict(flops=0, params=0), dict(flops='T'))


def test_estimate_errors(spos_table, spos_subnet_choices):
    _, table = spos_table
    key = 'backbone.layers.0.0'
    partial = dict(spos_subnet_choices)
    del partial[key]
    with pytest.raises(KeyError, match=f"Missing groups: \\['{key}'\\]"):
        table.estimate(partial)
    with pytest.raises(KeyError, match=r"unknown groups: \['head'\]"):
        table.estimate(dict(spos_subnet_choices, head='shuffle_3x3'))
    with pytest.raises(ValueError, match='shuffle_9x9.*shuffle_3x3'):
        table.estimate(dict(spos_subnet_choices, **{key: 'shuffle_9x9'}))


class _ToyNet(nn.Module):
    """conv -> two mutable convs (same alias) -> mutable conv -> pooling."""

    def __init__(self, wide: bool = False, peek: bool = False) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)

        def mutable(alias=None):
            return OneShotMutableOP(
                dict(
                    k3=nn.Conv2d(8, 8, 3, padding=1),
                    k5=nn.Sequential(
                        nn.Conv2d(8, 8, 5, padding=2), nn.BatchNorm2d(8)),
                    skip=nn.Identity()),
                alias=alias)

        self.a, self.b = mutable('shared'), mutable('shared')
        self.c = mutable()
        if wide:
            self.c._candidates['wide'] = nn.Conv2d(8, 16, 1)
        self.extra = nn.Conv2d(8, 8, 1)
        self.peek = peek
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = self.c(self.b(self.a(self.stem(x))))
        if self.peek and self.c.current_choice == 'k5':
            x = self.extra(x)
        return self.pool(x)


def _toy(**kwargs):
    model = _ToyNet(**kwargs)
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    return model, mutator


def test_aliases_every_subnet_and_restored_choices():
    model, mutator = _toy()
    mutator.set_choices(dict(shared='k5', c='skip'))
    est = ResourceEstimator(input_shape=(2, 3, 12, 12), units=RAW)
    table = est.build_cost_table(model, mutator)
    assert mutator.current_choices == dict(shared='k5', c='skip')
    assert sorted(table.choices) == ['c', 'shared']
    for shared, c in itertools.product(['k3', 'k5', 'skip'], repeat=2):
        mutator.set_choices(dict(shared=shared, c=c))
        assert table.estimate(dict(shared=shared, c=c)) == est.estimate(
            export_static_model(model))


def test_fresh_supernet_is_left_at_the_probe_subnet():
    model, mutator = _toy()
    SubnetCostTable.build(model, mutator)
    assert mutator.current_choices == dict(shared='k3', c='k3')


def test_rejects_what_a_table_cannot_represent():
    est = ResourceEstimator(input_shape=(1, 3, 8, 8), units=RAW)
    model, mutator = _toy(wide=True)
    with pytest.raises(ValueError, match="cannot represent.*'c'.*'wide'"):
        est.build_cost_table(model, mutator)
    model, mutator = _toy(peek=True)
    with pytest.raises(ValueError, match='cannot represent.*depends on'):
        est.build_cost_table(model, mutator)
    assert est.build_cost_table(model, mutator, verify=False)

    model = nn.Sequential(
        nn.Conv2d(3, 8, 1), OneShotMutableValue(value_list=[1, 2]))
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    with pytest.raises(TypeError, match='OneShotMutableValue'):
        est.build_cost_table(model, mutator)
    other, _ = _toy()
    _, mutator = _toy()
    with pytest.raises(ValueError, match='not in the given _ToyNet'):
        est.build_cost_table(other, mutator)
