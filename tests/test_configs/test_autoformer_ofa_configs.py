# Copyright (c) OpenMMLab. All rights reserved.
"""The Autoformer and Once-for-All configs (at the original's paths) train
2 iterations, or search 2 candidates, on fake data.

:func:`mmrazor.testing.smoke_config` makes the runs small (4 fake images,
no downloads, tiny searches); the OFA runs keep their full space at 32x32
inputs, the Autoformer ones swap the 90 M-parameter Autoformer-B space for
a tiny one (the subnet config a tiny subnet), which is all that differs.
With ``MMRAZOR_ORIGINAL_CONFIGS`` naming the original MMRazor 1.0's
``configs`` folder, its own files run too, unchanged but for the data
(about 2 minutes).
"""
import math
import os
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.models.utils import count_mutables
from mmrazor.registry import MODELS
from mmrazor.testing.smoke import smoke_config

from ..conftest import CONFIG_DIR, REPO_ROOT

ORIGINAL_DIR = os.environ.get('MMRAZOR_ORIGINAL_CONFIGS')
AUTOFORMER = 'nas/mmcls/autoformer/autoformer_{}.py'
OFA = 'nas/mmcls/onceforall/ofa_mobilenet_{}.py'
CONFIGS = [AUTOFORMER.format(n) for n in (
    'supernet_32xb256_in1k', 'search_8xb128_in1k', 'subnet_8xb256_in1k')] + [
        OFA.format(n) for n in ('supernet_32xb64_in1k', 'search_8xb128_in1k',
                                'subnet_8xb256_in1k')
    ]
TINY_ARCH = dict(mlp_ratios=[2.0, 3.0], num_heads=[1, 2], depth=[1, 2],
                 embed_dims=[16, 24])
TINY_SUBNET = {
    'backbone.mutable_depth': 2,
    'backbone.mutable_embed_dims': 16,
    'backbone.base_embed_dims': 8,
    'backbone.blocks.0.attn.mutable_attrs.num_heads': 2,
    'backbone.blocks.0.mutable_mlp_ratios': 3.0,
    'backbone.blocks.1.attn.mutable_attrs.num_heads': 1,
    'backbone.blocks.1.mutable_mlp_ratios': 2.0,
}


@pytest.fixture(autouse=True)
def one_thread_plain_text(one_thread, monkeypatch):
    """One torch thread (small forwards on a shared CPU), and plain config
    dumps (the runner's yapf-formatted ones take seconds; nothing reads
    them)."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))


def tiny_autoformer(cfg: Config) -> None:
    """The Autoformer space of ``cfg`` made tiny, in place."""
    model = cfg.model
    supernet = model.cfg if model.type.endswith('sub_model') else \
        model.architecture
    supernet.backbone.update(arch_setting=TINY_ARCH, head_dims=8)
    supernet.head.in_channels = 24
    if model.type.endswith('sub_model'):
        model.fix_subnet = {k: dict(chosen=v) for k, v in TINY_SUBNET.items()}


def run(path: str, tmp_path) -> Runner:
    cfg, mode = smoke_config(path, str(tmp_path), image_size=32)
    if 'autoformer' in path:
        tiny_autoformer(cfg)
    runner = Runner.from_cfg(cfg)
    cwd = os.getcwd()
    os.chdir(REPO_ROOT)  # the original's files name subnets from the root
    try:
        getattr(runner, mode)()
    finally:
        os.chdir(cwd)
    return runner


def check(runner: Runner, name: str) -> None:
    scalars = runner.message_hub.log_scalars
    if 'search' in name:
        assert len(runner.train_loop.records) == 2
        # the best subnet builds as a static model from its file
        static = MODELS.build(
            dict(type='mmrazor.sub_model',
                 cfg=runner.cfg.model.architecture,
                 fix_subnet=osp.join(runner.work_dir,
                                     'best_fix_subnet.yaml')))
        assert count_mutables(static) == 0
        return
    assert runner.iter == 2
    assert math.isfinite(scalars['train/loss'].current())
    if 'ofa_mobilenet_supernet' in name:
        assert 'train/min_subnet.loss_kl' in scalars


@pytest.mark.parametrize('name', CONFIGS)
def test_ours(name, tmp_path):
    check(run(osp.join(CONFIG_DIR, name), tmp_path), name)


@pytest.mark.skipif(ORIGINAL_DIR is None,
                    reason='MMRAZOR_ORIGINAL_CONFIGS names no folder of the '
                    "original's configs")
@pytest.mark.parametrize('name', CONFIGS)
def test_originals(name, tmp_path):
    check(run(osp.join(ORIGINAL_DIR, name), tmp_path), name)
