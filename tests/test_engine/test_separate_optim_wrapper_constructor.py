# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch.nn as nn
from mmengine.optim import OptimWrapperDict

from mmrazor.engine import SeparateOptimWrapperConstructor


class TwoParts(nn.Module):

    def __init__(self):
        super().__init__()
        self.architecture = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
        self.generator = nn.Linear(4, 2)


def test_one_wrapper_per_submodule():
    constructor = SeparateOptimWrapperConstructor(
        dict(
            architecture=dict(
                optimizer=dict(type='SGD', lr=0.1, weight_decay=1e-4),
                paramwise_cfg=dict(norm_decay_mult=0.)),
            generator=dict(optimizer=dict(type='Adam', lr=1e-3))))
    model = TwoParts()
    wrappers = constructor(model)
    assert isinstance(wrappers, OptimWrapperDict)
    arch = wrappers['architecture'].optimizer
    gen = wrappers['generator'].optimizer
    assert type(arch).__name__ == 'SGD' and type(gen).__name__ == 'Adam'
    arch_params = {id(p) for g in arch.param_groups for p in g['params']}
    assert arch_params == {id(p) for p in model.architecture.parameters()}
    norm_groups = [g for g in arch.param_groups
                   if g['params'][0] is model.architecture[1].weight]
    assert norm_groups[0]['weight_decay'] == 0.


def test_errors():
    with pytest.raises(KeyError, match="no submodule 'student'"):
        SeparateOptimWrapperConstructor(
            dict(student=dict(optimizer=dict(type='SGD', lr=0.1))))(
                TwoParts())
    with pytest.raises(ValueError, match='of each submodule'):
        SeparateOptimWrapperConstructor(
            dict(architecture=dict(optimizer=dict(type='SGD', lr=0.1))),
            paramwise_cfg=dict(norm_decay_mult=0.))
