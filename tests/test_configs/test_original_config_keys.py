# Copyright (c) OpenMMLab. All rights reserved.
"""The config keys of the original MMRazor 1.0 that are accepted here,
each checked without the original's files (test_original_configs.py runs
those files themselves when they are at hand)."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.engine  # noqa: F401  (registers the loops and hooks)
import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.engine.hooks.pruning_hooks import _input_shape
from mmrazor.models.architectures.classifiers import SearchableImageClassifier
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.distillers._mappings import align_pairs
from mmrazor.registry import LOOPS, MODELS
from mmrazor.testing.smoke import smoke_config

from ..conftest import CONFIG_DIR, REPO_ROOT

SMALL_PARSE_CFG = dict(
    type='ChannelAnalyzer', demo_input=(1, 3, 32, 32),
    tracer_type='BackwardTracer')


@pytest.fixture
def plain_config_text(monkeypatch):
    """Plain config dumps: yapf formatting of long configs takes seconds."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))


def test_sub_model_mutator_mode_and_inherited_keys():
    """DCFF compact: ``mode='mutator'``, ``cfg=dict(cfg_path=...)`` and a
    channel mutator config as ``fix_subnet``; keys inherited from a
    supernet's model dict are ignored."""
    units = {'backbone.conv1_(0, 64)_64': dict(
        init_args=dict(num_channels=64, choice_mode='ratio'), choice=0.5)}
    model = MODELS.build(dict(
        type='mmrazor.sub_model',
        cfg=dict(cfg_path='mmcls::resnet/resnet18_8xb32_in1k.py',
                 pretrained=False),
        fix_subnet=dict(type='DCFFChannelMutator',
                        channel_unit_cfg=dict(units=units),
                        parse_cfg=dict(type='ChannelAnalyzer',
                                       demo_input=(1, 3, 32, 32),
                                       from_cfg=True)),
        mode='mutator',
        architecture=dict(type='ignored'),
        distiller=None))
    assert model.backbone.conv1.out_channels == 32
    assert model.backbone.layer1[0].conv1.in_channels == 32
    out = model.eval()(torch.rand(1, 3, 32, 32), mode='tensor')
    assert out.shape == (1, 1000)
    with pytest.raises(ValueError, match="`mode` must be one of"):
        MODELS.build(dict(type='mmrazor.sub_model', cfg=dict(),
                          fix_subnet={}, mode='channels'))


def test_input_resizer_from_input_sizes():
    resizer = SearchableImageClassifier._build_input_resizer(
        dict(input_sizes=[[32, 32], [48, 48]]))
    shape = resizer.mutable_attrs['shape']
    assert shape.choices == [[32, 32], [48, 48]]
    assert shape.alias == 'input_shape'
    with pytest.raises(ValueError, match='input_sizes'):
        SearchableImageClassifier._build_input_resizer(
            dict(input_sizes=[32, 48]))


def autoslim_cfg(**kwargs) -> dict:
    arch = Config.fromfile(
        osp.join(CONFIG_DIR, 'pruning', 'mmcls', 'autoslim',
                 'autoslim_mbv2_1.5x_supernet_8xb256_in1k.py')).model
    arch.mutator.parse_cfg.demo_input = (1, 3, 32, 32)
    arch.update(**kwargs)
    return arch


def test_autoslim_num_random_samples_and_bn_training_mode():
    model = MODELS.build(autoslim_cfg(num_random_samples=3,
                                      bn_training_mode=True))
    assert model.num_samples == 3
    model.eval()
    norms = [m for m in model.architecture.modules()
             if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.training for m in norms)
    with pytest.raises(ValueError, match='another name of `num_samples`'):
        MODELS.build(autoslim_cfg(num_random_samples=3, num_samples=4))


def test_slimmable_network_subnets_from_units():
    """Without channel_cfg_paths, the widths of the mutator's units (the
    original's tests/data/MBV2_slimmable_config.json form)."""
    arch = Config.fromfile(
        osp.join(CONFIG_DIR, 'pruning', 'mmcls', 'autoslim',
                 'autoslim_mbv2_1.5x_supernet_8xb256_in1k.py')).supernet
    units = osp.join(REPO_ROOT, 'tests', 'data',
                     'MBV2_slimmable_config.json')
    model = MODELS.build(dict(
        type='mmrazor.SlimmableNetwork', architecture=arch, deploy_index=1,
        mutator=dict(type='SlimmableChannelMutator',
                     channel_unit_cfg=dict(type='SlimmableChannelUnit',
                                           units=units),
                     parse_cfg=SMALL_PARSE_CFG)))
    assert len(model.subnets) == 3
    first = 'backbone.conv1.conv_(0, 48)_48'
    # the widths of MBV2_220M/320M/530M.yaml (the original's files)
    assert [s[first] for s in model.subnets] == [8, 8, 32]
    assert model.architecture.backbone.conv1.conv(
        torch.rand(1, 3, 8, 8)).shape[1] == 8


def test_align_pairs_squeezes_singleton_dims_only():
    s, t = torch.rand(2, 8), torch.rand(2, 8, 1, 1)
    aligned = align_pairs(dict(s_feature=s, t_feature=t))
    assert aligned['t_feature'].shape == (2, 8)
    other = align_pairs(dict(s_feature=s, t_feature=torch.rand(2, 4, 2)))
    assert other['t_feature'].shape == (2, 4, 2)


def test_teacher_connector_with_parameters_trains():
    """Factor transfer, stage 1: the loss's teacher argument is the output
    of a teacher-side Paraphraser, which must learn."""
    teacher = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 1))
    distiller = ConfigurableDistiller(
        teacher_recorders=dict(feat=dict(type='ModuleOutputs', source='0')),
        connectors=dict(para=dict(type='Paraphraser', in_channel=8,
                                  out_channel=4)),
        distill_losses=dict(loss_rec=dict(type='L2Loss')),
        loss_forward_mappings=dict(loss_rec=dict(
            s_feature=dict(from_student=False, recorder='feat'),
            t_feature=dict(from_student=False, recorder='feat',
                           connector='para'))))
    distiller.prepare_from_teacher(teacher)
    with distiller.teacher_recorders:
        teacher(torch.rand(2, 3, 4, 4))
    loss = distiller.compute_distill_losses()['loss_rec']
    loss.backward()
    assert all(p.grad is not None
               for p in distiller.connectors['para'].parameters())
    assert teacher[0].weight.grad is None


def test_original_loop_and_model_names():
    assert LOOPS.get('SelfDistillValLoop') is not None
    assert _input_shape(dict(type='mmrazor.DefaultDemoInput',
                             input_shape=[1, 3, 32, 32])) == (1, 3, 32, 32)
    with pytest.raises(ValueError, match='demo_input'):
        _input_shape(dict(type='Other', input_shape=[1, 3, 32, 32]))


def test_group_fisher_hooks_save_at_threshold(tmp_path, plain_config_text):
    """PruningStructureHook and ResourceInfoHook (the original's prune
    configs' custom_hooks): a checkpoint below the threshold, then an early
    stop."""
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'pruning', 'mmcls', 'demo',
                                   'group_fisher_resnet18_cifar16_digits.py'))
    cfg.custom_hooks = [
        dict(type='mmrazor.PruningStructureHook', by_epoch=False),
        dict(type='mmrazor.ResourceInfoHook', interval=1,
             demo_input=dict(type='mmrazor.DefaultDemoInput',
                             input_shape=[1, 3, 32, 32]),
             save_ckpt_thr=[0.9999])]
    cfg, _ = smoke_config(cfg, str(tmp_path), image_size=32, num_classes=10,
                          max_iters=6)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert osp.isfile(osp.join(str(tmp_path), 'flops_1.00.pth'))
    assert runner.iter < 6  # stopped once every threshold was passed


def test_autoslim_search_as_test_loop(tmp_path, plain_config_text):
    """The original's AutoSlim search config runs the greedy search as its
    test_cfg (tools/test.py)."""
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'pruning', 'mmcls', 'autoslim',
                                   'autoslim_mbv2_1.5x_search_8xb256_in1k.py'))
    cfg.test_cfg = cfg.train_cfg
    cfg.test_cfg.pop('dataloader', None)
    cfg.train_cfg = cfg.optim_wrapper = cfg.param_scheduler = None
    cfg.train_dataloader = cfg.val_cfg = cfg.val_dataloader = None
    cfg, mode = smoke_config(cfg, str(tmp_path), image_size=32)
    assert mode == 'test'
    Runner.from_cfg(cfg).test()
    written = [f for f in os.listdir(str(tmp_path))
               if f.startswith('subnet_flops-')]
    assert len(written) == 1, written
