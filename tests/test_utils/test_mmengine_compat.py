# Copyright (c) OpenMMLab. All rights reserved.
"""Pins the private mmengine behaviour mmrazor reads through
``mmrazor.utils._mmengine_compat``: if an mmengine release changes one of
them, this test names it."""
import numpy as np
import pytest
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel, BaseModule
from mmengine.runner import Runner
from mmengine.runner import checkpoint as mmengine_checkpoint

from mmrazor.utils._mmengine_compat import (
    config_dict,
    load_from_of,
    mark_initialized,
    parse_val_losses,
    randomness_cfg_of,
    resumes,
    train_dataloader_of,
)


class _Toy(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.fc(inputs)


def _runner(tmp_path, **kwargs):
    loader = dict(
        dataset=dict(type='mmrazor.FakeClsDataset', num_samples=2),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=1)
    return Runner(model=_Toy(), work_dir=str(tmp_path),
                  train_dataloader=loader,
                  train_cfg=dict(by_epoch=True, max_epochs=1),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                  **kwargs), loader


def test_runner_settings_before_build(tmp_path):
    runner, loader = _runner(
        tmp_path, load_from='weights.pth', resume=True,
        randomness=dict(seed=3, diff_rank_seed=True))
    # the dataloader as given: a config, not built yet
    assert train_dataloader_of(runner) == loader
    assert load_from_of(runner) == 'weights.pth'
    assert resumes(runner) is True
    cfg = randomness_cfg_of(runner)
    assert cfg['seed'] == 3 and cfg['diff_rank_seed'] is True
    plain, _ = _runner(tmp_path / 'plain')
    assert load_from_of(plain) is None and resumes(plain) is False
    assert randomness_cfg_of(plain).get('diff_rank_seed', False) is False


def test_parse_val_losses_means_and_sum():
    losses = dict(loss_a=HistoryBuffer(), acc=HistoryBuffer())
    for a, b in ((1., 10.), (3., 30.)):
        losses['loss_a'].update(a)
        losses['acc'].update(b)
    parsed = parse_val_losses(losses, 'val')
    assert parsed['loss_a'] == pytest.approx(2.0)
    assert parsed['acc'] == pytest.approx(20.0)
    # only names containing 'loss' are summed
    assert parsed['val_loss'] == pytest.approx(2.0)


def test_mark_initialized_keeps_weights():
    module = BaseModule(init_cfg=dict(type='Constant', val=0., layer='Linear'))
    module.fc = nn.Linear(2, 2)
    nn.init.ones_(module.fc.weight)
    mark_initialized(module)
    module.init_weights()
    assert np.all(module.fc.weight.detach().numpy() == 1.)
    fresh = BaseModule(init_cfg=dict(type='Constant', val=0., layer='Linear'))
    fresh.fc = nn.Linear(2, 2)
    fresh.init_weights()
    assert np.all(fresh.fc.weight.detach().numpy() == 0.)


def test_config_dict_edits_in_place():
    cfg = Config(dict(model=dict(type='A', depth=1)))
    inner = config_dict(cfg)
    assert isinstance(inner, ConfigDict)
    inner['model']['depth'] = 2
    assert cfg.model.depth == 2
    plain = dict(a=1)
    assert config_dict(plain) is plain


def test_checkpoint_loading_looks_up_load_state_dict_by_name():
    # mmrazor.utils.weights_fit replaces the module global; mmengine must
    # keep calling it through the module namespace.
    names = mmengine_checkpoint._load_checkpoint_to_model.__code__.co_names
    assert 'load_state_dict' in names
