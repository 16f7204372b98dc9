# Copyright (c) OpenMMLab. All rights reserved.
"""Fixtures of the estimator tests: the ImageNet SPOS supernet and subnet."""
import copy

import pytest

from mmrazor.models import NasMutator
from mmrazor.registry import MODELS
from mmrazor.structures import load_subnet_dict

from ....conftest import SPOS_SUBNET, classifier_cfg, spos_stage_mutable


@pytest.fixture(scope='module')
def imagenet_supernet():
    """The SPOS ShuffleNetV2 classifier with 1000 classes, in eval mode,
    and a ``NasMutator`` prepared from it: built once per test module."""
    stage = spos_stage_mutable()
    arch = [[64, 4, stage], [160, 4, stage], [320, 8, stage],
            [640, 4, stage]]
    model = MODELS.build(classifier_cfg(copy.deepcopy(arch), 1000)).eval()
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    return model, mutator


@pytest.fixture(scope='module')
def spos_subnet_choices():
    """``{group key: choice}`` of configs/nas/mmcls/spos/SPOS_SUBNET.yaml."""
    return {k: v['chosen'] for k, v in load_subnet_dict(SPOS_SUBNET).items()}
