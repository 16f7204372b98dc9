# Copyright (c) OpenMMLab. All rights reserved.
"""The original MMRazor 1.0's mmcls configs, of the algorithms implemented
here, build through the Runner and train 2 iterations on fake data.

Three sources are checked, at the same paths under ``configs/``:

- ``ours``: the configs this repository ships at the original's paths
  (a moved config keeps a file at its old path);
- ``mmrazor::``: a config of another project whose only line is
  ``_base_ = ['mmrazor::<path>']``, resolved through the package data
  (``mmrazor/.mim``) as in a user's project: mmengine then puts every
  top-level typed dict of ours in the ``mmrazor`` scope;
- ``original``: the original's own files, unchanged, when the environment
  variable ``MMRAZOR_ORIGINAL_CONFIGS`` names their ``configs`` folder
  (``mmrazor/.mim/configs`` of an unpacked ``mmrazor==1.0.0`` wheel);
  skipped otherwise. Their ``mmrazor::`` bases resolve to this package.

Only what a smoke run cannot do is changed (:func:`mmrazor.testing.
smoke_config`): no checkpoint is loaded, the data is 4 random images
(32x32 for CIFAR configs, 64x64 for ImageNet ones), searches evaluate two
candidates. The runs start in the repository root, where the original's
configs expect to be run (they name subnet files as ``configs/...``).

About 4 minutes per source on 2 CPU cores: marked ``slow``.
"""
import math
import os
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import mmrazor.testing  # noqa: F401  (registers FakeClsDataset)
from mmrazor.testing.smoke import smoke_config

from ..conftest import CONFIG_DIR, REPO_ROOT

ORIGINAL_DIR = os.environ.get('MMRAZOR_ORIGINAL_CONFIGS')

# The original's mmcls configs of the algorithms implemented here. Left
# out, for want of the algorithm or a part of it: DeiT (its head) and
# quantization; AutoFormer and Once-For-All run, smaller, in
# test_autoformer_ofa_configs.py.
ORIGINAL_CONFIGS = (
    'distill/mmcls/abloss/abloss_logits_resnet50_resnet18_8xb32_in1k.py',
    'distill/mmcls/abloss/'
    'abloss_pretrain_backbone_resnet50_resnet18_8xb32_in1k.py',
    'distill/mmcls/byot/byot_resnet18_8xb16_cifar100.py',
    'distill/mmcls/crd/crd_neck_r50_r18_8xb16_cifar10.py',
    'distill/mmcls/dafl/dafl_logits_resnet34_resnet18_8xb256_cifar10.py',
    'distill/mmcls/dfad/dfad_logits_resnet34_resnet18_8xb32_cifar10.py',
    'distill/mmcls/dist/dist_logits_resnet34_resnet18_8xb32_in1k.py',
    'distill/mmcls/dkd/dkd_resnet34_resnet18_8xb32_in1k.py',
    'distill/mmcls/factor_transfer/'
    'factor-transfer_backbone_resnet50_resnet18_8xb16_cifar10_pretrain.py',
    'distill/mmcls/factor_transfer/'
    'factor-transfer_backbone_resnet50_resnet18_8xb16_cifar10_train.py',
    'distill/mmcls/fitnets/'
    'fitnets_backbone_logits_resnet50_resnet18_8xb32_in1k.py',
    'distill/mmcls/kd/kd_logits_resnet34_resnet18_8xb32_in1k.py',
    'distill/mmcls/kd/kd_logits_resnet50_mobilenet-v2_8xb32_in1k.py',
    'distill/mmcls/kd/kd_logits_resnet50_shufflenet-v2-1x_16xb64_in1k.py',
    'distill/mmcls/ofd/ofd_backbone_resnet50_resnet18_8xb16_cifar10.py',
    'distill/mmcls/rkd/rkd_neck_resnet34_resnet18_8xb32_in1k.py',
    'distill/mmcls/wsld/wsld_logits_resnet34_resnet18_8xb32_in1k.py',
    'distill/mmcls/zskt/zskt_backbone_logits_resnet34_resnet18_8xb16_'
    'cifar10.py',
    'nas/mmcls/autoslim/autoslim_mbv2_1.5x_search_8xb256_in1k.py',
    'nas/mmcls/autoslim/autoslim_mbv2_1.5x_slimmable_subnet_8xb256_in1k.py',
    'nas/mmcls/autoslim/autoslim_mbv2_1.5x_subnet_8xb256_in1k_flops-220M.py',
    'nas/mmcls/autoslim/autoslim_mbv2_1.5x_subnet_8xb256_in1k_flops-320M.py',
    'nas/mmcls/autoslim/autoslim_mbv2_1.5x_subnet_8xb256_in1k_flops-530M.py',
    'nas/mmcls/autoslim/autoslim_mbv2_1.5x_supernet_8xb256_in1k.py',
    'nas/mmcls/bignas/attentive_mobilenet_search_8xb128_in1k.py',
    'nas/mmcls/bignas/attentive_mobilenet_subnet_8xb256_in1k.py',
    'nas/mmcls/bignas/attentive_mobilenet_supernet_32xb64_in1k.py',
    'nas/mmcls/darts/darts_subnet_1xb96_cifar10_2.0.py',
    'nas/mmcls/darts/darts_subnet_1xb96_cifar10_2.0_mmrazor.py',
    'nas/mmcls/darts/darts_supernet_unroll_1xb96_cifar10.py',
    'nas/mmcls/dsnas/dsnas_subnet_8xb128_in1k.py',
    'nas/mmcls/dsnas/dsnas_supernet_8xb128_in1k.py',
    'nas/mmcls/spos/spos_mobilenet_search_8xb128_in1k.py',
    'nas/mmcls/spos/spos_mobilenet_subnet_8xb128_in1k.py',
    'nas/mmcls/spos/spos_mobilenet_supernet_8xb128_in1k.py',
    'nas/mmcls/spos/spos_shufflenet_search_8xb128_in1k.py',
    'nas/mmcls/spos/spos_shufflenet_search_predictor_8xb128_in1k.py',
    'nas/mmcls/spos/spos_shufflenet_subnet_8xb128_in1k.py',
    'nas/mmcls/spos/spos_shufflenet_supernet_8xb128_in1k.py',
    'pruning/mmcls/dcff/dcff_compact_resnet_8xb32_in1k.py',
    'pruning/mmcls/dcff/dcff_resnet_8xb32_in1k.py',
    'pruning/mmcls/dmcp/dmcp_mbv2_subnet_32xb64.py',
    'pruning/mmcls/dmcp/dmcp_mbv2_supernet_32xb64.py',
    'pruning/mmcls/dmcp/dmcp_resnet50_subnet_32xb64.py',
    'pruning/mmcls/dmcp/dmcp_resnet50_supernet_32xb64.py',
) + tuple(
    f'pruning/mmcls/group_fisher/{net}/group_fisher_{kind}_{stage}_'
    f'{arch}_8xb32_in1k.py' for net, arch in (('mobilenet', 'mobilenet-v2'),
                                              ('resnet50', 'resnet50'))
    for kind in ('act', 'flops') for stage in ('prune', 'finetune', 'deploy')
) + (
    'pruning/mmcls/group_fisher/resnet50/'
    'group_fisher_act_finetune_resnet50_8xb32_in1k_dist.py', ) + tuple(
        f'pruning/mmcls/l1-norm/l1-norm_resnet34_8xb32_in1k_{v}{d}.py'
        for v in 'abc' for d in ('', '_deploy')) + tuple(
            f'vanilla/mmcls/wide-resnet/wrn{arch}_b16x8_cifar10.py'
            for arch in ('16-w2', '22-w4', '28-w4', '40-w2'))

# original configs that cannot run here, with the reason
ORIGINAL_XFAIL = {
    'nas/mmcls/spos/spos_mobilenet_subnet_8xb128_in1k.py':
    "its fix_subnet, 'configs/nas/spos/AngleNAS_SHUFFLENETV2_IN1k_2.0.yaml',"
    ' is a file the original does not ship either; our config at this path '
    'names SPOS_MOBILENET_SUBNET.yaml',
    'nas/mmcls/dsnas/dsnas_subnet_8xb128_in1k.py':
    "its optimizer (SeparateOptimWrapperConstructor over 'architecture' and "
    "'mutator', inherited from the supernet's settings) does not fit the "
    'static subnet it builds, in the original too; our config at this path '
    'sets a plain optimizer',
}
_DMCP_SUBNET = (
    'its fix_subnet, {}, is the original\'s model-zoo structure, which it '
    'does not ship; a DMCP run writes its own (DMCPSubnetHook), passed with '
    '--cfg-options model.fix_subnet=...')
for _net, _file in (('mbv2', 'DMCP_MBV2_100M.json'),
                    ('resnet50', 'DMCP_R50_2G.json')):
    ORIGINAL_XFAIL[f'pruning/mmcls/dmcp/dmcp_{_net}_subnet_32xb64.py'] = \
        _DMCP_SUBNET.format(_file)
# configs of ours that cannot run without a file of the user's, with the
# reason
OURS_XFAIL: dict = {
    name: reason
    for name, reason in ORIGINAL_XFAIL.items() if name.startswith(
        'pruning/mmcls/dmcp/')
}


def data_settings(name: str) -> dict:
    """Fake-data size and classes of a config, from its dataset name."""
    if 'cifar100' in name:
        return dict(image_size=32, num_classes=100)
    if 'cifar10' in name:
        return dict(image_size=32, num_classes=10)
    return dict(image_size=64, num_classes=1000)


def params() -> list:
    """``(source, name)`` of every run, with its marks."""
    out = []
    for name in ORIGINAL_CONFIGS:
        for source in ('ours', 'mmrazor::', 'original'):
            marks = [pytest.mark.slow]
            reason = (ORIGINAL_XFAIL if source == 'original' else
                      OURS_XFAIL).get(name)
            if reason:
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            out.append(pytest.param(source, name, marks=marks,
                                    id=source.rstrip(':') + '::' + name))
    return out


@pytest.fixture
def plain_config_text(monkeypatch):
    """The runner logs and dumps its config as yapf-formatted text, which
    takes seconds for long configs; plain text does (nothing reads it)."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self.to_dict())))


# Small forwards run faster on one thread on a shared CPU.
pytestmark = pytest.mark.usefixtures('one_thread')


def test_original_paths_exist():
    missing = [n for n in ORIGINAL_CONFIGS
               if not osp.isfile(osp.join(CONFIG_DIR, n))]
    assert not missing, f'original config paths missing here: {missing}'


@pytest.mark.parametrize('source,name', params())
def test_config_trains_two_iters(source, name, tmp_path, monkeypatch,
                                 plain_config_text):
    if source == 'original':
        if not ORIGINAL_DIR:
            pytest.skip('set MMRAZOR_ORIGINAL_CONFIGS to the original '
                        "MMRazor 1.0's configs folder")
        path = osp.join(ORIGINAL_DIR, name)
    elif source == 'mmrazor::':
        path = str(tmp_path / ('user_' + osp.basename(name)))
        with open(path, 'w') as f:
            f.write(f"_base_ = ['mmrazor::{name}']\n")
    else:
        path = osp.join(CONFIG_DIR, name)
    monkeypatch.chdir(REPO_ROOT)
    cfg, mode = smoke_config(path, str(tmp_path), **data_settings(name))
    runner = Runner.from_cfg(cfg)
    getattr(runner, mode)()
    loop = str(cfg.train_cfg.get('type', '')) if cfg.train_cfg else ''
    if mode == 'train' and 'Search' not in loop:
        assert runner.iter == 2, f'{name}: {runner.iter} iterations'
        losses = [v.current() for k, v in
                  runner.message_hub.log_scalars.items()
                  if k.startswith('train/') and 'loss' in k]
        assert all(math.isfinite(v) for v in losses), losses
