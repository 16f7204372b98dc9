# Copyright (c) OpenMMLab. All rights reserved.
"""MMRazor 1.0's search helpers: crossover, check_subnet_resources."""
import copy
import random

import pytest

from mmrazor.engine.runner.utils import check_subnet_resources, crossover
from mmrazor.models.task_modules.estimators import build_estimator
from mmrazor.registry import MODELS
from mmrazor.structures import load_subnet_dict

from ..conftest import SPOS_SUBNET, classifier_cfg, spos_stage_mutable


def test_crossover_mixes_parents_with_prob():
    a = {f'k{i}': 'a' for i in range(2000)}
    b = {f'k{i}': 'b' for i in range(2000)}
    random.seed(0)
    child = crossover(a, b, prob=0.25)
    share = sum(v == 'b' for v in child.values()) / len(child)
    assert 0.22 < share < 0.28
    assert crossover(a, b, prob=0) == a and crossover(a, b, prob=1) == b
    with pytest.raises(KeyError, match='same keys'):
        crossover(a, {'k0': 'b'})
    with pytest.raises(ValueError, match=r'`prob` must be in \[0, 1\]'):
        crossover(a, b, prob=1.5)


@pytest.fixture(scope='module')
def spos():
    stage = spos_stage_mutable()
    arch = [[64, 4, stage], [160, 4, stage], [320, 8, stage],
            [640, 4, stage]]
    return MODELS.build(dict(
        type='mmrazor.SPOS',
        architecture=classifier_cfg(copy.deepcopy(arch), 1000))).eval()


def test_check_subnet_resources_on_the_published_subnet(spos):
    subnet = {k: v['chosen'] for k, v in load_subnet_dict(SPOS_SUBNET).items()}
    estimator = build_estimator()
    ok, results = check_subnet_resources(spos, subnet, estimator,
                                         dict(flops=(0, 330)))
    # the original's published SPOS subnet: 327.54 MFLOPs, 3,353,592 params
    assert ok and round(results['flops'], 2) == 327.54
    assert round(results['params'] * 1e6) == 3353592
    assert spos.mutator.current_choices == subnet
    ok, _ = check_subnet_resources(spos, subnet, estimator,
                                   dict(flops=(0, 300)))
    assert not ok
    assert check_subnet_resources(spos, subnet, estimator, None) == (True, {})
    with pytest.raises(KeyError, match='latency'):
        check_subnet_resources(spos, subnet, estimator,
                               dict(latency=(0, 1)))
