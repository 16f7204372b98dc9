# Copyright (c) OpenMMLab. All rights reserved.
"""The Once-for-All MobileNetV3 space: elastic kernels as the paper defines
them, MMRazor 1.0's state-dict keys and subnet files, static export."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmrazor.models import NasMutator, OFAConv2d, ResourceEstimator
from mmrazor.models.mutables import OneShotMutableValue
from mmrazor.models.utils import count_mutables, export_static_model
from mmrazor.registry import MODELS
from mmrazor.structures import load_fix_subnet
from mmrazor.structures.subnet.fix_subnet import load_subnet_dict

from ...conftest import CONFIG_DIR, REPO_ROOT
from .test_mobilenet_export import (
    check_plain,
    onnx_diff,
    randomize_norms,
    tensor_outputs,
)

OFA_DIR = osp.join(CONFIG_DIR, 'nas', 'mmcls', 'onceforall')
SUPERNET = osp.join(OFA_DIR, 'ofa_mobilenet_supernet_32xb64_in1k.py')
ORIGINAL_KEYS = osp.join(REPO_ROOT, 'tests', 'data',
                         'original_ofa_mobilenetv3_state_dict.txt')


# Small forwards run faster on one thread on a shared CPU.
pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def supernet():
    """The OFA classifier, input sizes shrunk to 48-64 px, norms and kernel
    matrices away from their initial values."""
    cfg = Config.fromfile(SUPERNET).supernet
    cfg.input_resizer_cfg = dict(input_sizes=[[48, 48], [64, 64]])
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    randomize_norms(model)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'trans_matrix' in name:
                param.add_(torch.randn_like(param) * 0.1)
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    return model.eval(), mutator


def ofa_kernel(weight, matrices, kernel):
    """The paper's elastic kernel, written out: from the full kernel down to
    ``kernel``, take the centre ``s x s`` of the current kernel and map its
    ``s^2`` values by that step's matrix (``w' = M w`` per filter)."""
    current = weight
    for (big, small), matrix in matrices.items():
        if small < kernel:
            break
        start = (big - small) // 2
        crop = current[..., start:start + small, start:start + small]
        flat = crop.reshape(*crop.shape[:2], small * small)
        current = torch.einsum('ij,ocj->oci', matrix, flat).reshape(
            crop.shape)
    return current


def test_elastic_kernel_matches_the_paper():
    torch.manual_seed(0)
    conv = OFAConv2d(6, 6, 7, padding=3, groups=6)
    kernel = OneShotMutableValue([3, 5, 7])
    conv.register_mutable_attr('kernel_size', kernel)
    with torch.no_grad():
        for big, small in ((7, 5), (5, 3)):
            conv.trans_matrix(big, small).copy_(
                torch.randn(small * small, small * small))
    matrices = {(7, 5): conv.trans_matrix(7, 5),
                (5, 3): conv.trans_matrix(5, 3)}
    x = torch.randn(2, 6, 9, 9)
    for k in (7, 5, 3):
        kernel.current_choice = k
        weight = ofa_kernel(conv.weight, matrices, k)
        expected = F.conv2d(x, weight, conv.bias, 1, k // 2, 1, 6)
        with torch.no_grad():
            assert (conv(x) - expected).abs().max() <= 1e-5
            static = conv.to_static_op()
            assert static.kernel_size == (k, k)
            assert (static(x) - expected).abs().max() <= 1e-5
    # the 3x3 kernel is not a crop of the 7x7 one once matrices are learnt
    assert not torch.allclose(weight, conv.weight[..., 2:5, 2:5])


def test_state_dict_keys_are_the_originals():
    cfg = Config.fromfile(SUPERNET)
    backbone = MODELS.build(cfg.nas_backbone)
    ours = [f'{k} {tuple(v.shape)}' for k, v in backbone.state_dict().items()]
    with open(ORIGINAL_KEYS) as f:
        original = f.read().splitlines()
    assert len(ours) == 475
    assert ours == original
    # fine-grained: a kernel size and an expand ratio per block
    mutator = NasMutator()
    mutator.prepare_from_supernet(backbone)
    assert 'backbone.layers.2.3.kernel_size' in mutator.search_groups
    assert 'backbone.layers.6.0.expand_ratio' in mutator.search_groups
    assert 'backbone.layers.2.kernel_size' not in mutator.search_groups
    assert backbone.layer2[0].depthwise_conv.conv.get_mutable_attr(
        'kernel_size') is not backbone.layer2[1].depthwise_conv.conv.\
        get_mutable_attr('kernel_size')


@pytest.mark.parametrize('name,size,flops,params', [
    ('LAT22', 140, 70.9, 4.3),
    ('LAT31', 152, 105.4, 4.6),
])
def test_original_subnets_match_the_model_zoo(name, size, flops, params):
    """MMRazor 1.0's OFA subnet files (with their ``expand_ratio_se`` and
    ``input_shape`` entries) load, and the subnets have the FLOPs and
    parameters its model zoo lists (MFLOPs at their own input size)."""
    cfg = Config.fromfile(SUPERNET).supernet
    static = MODELS.build(
        dict(type='mmrazor.sub_model', cfg=cfg,
             fix_subnet=osp.join(OFA_DIR, f'OFA_SUBNET_NOTE8_{name}.yaml')))
    assert count_mutables(static) == 0
    assert static.input_resizer.size == (size, size)
    result = ResourceEstimator(input_shape=(1, 3, 224, 224)).estimate(static)
    assert round(result['flops'], 1) == flops
    assert round(result['params'], 1) == params


def test_wrong_derived_entry_name_still_refused():
    cfg = Config.fromfile(SUPERNET).supernet
    model = MODELS.build(cfg)
    subnet = osp.join(OFA_DIR, 'OFA_SUBNET_NOTE8_LAT22.yaml')
    entries = load_subnet_dict(subnet)
    entries['backbone.layers.2.9.expand_ratio_se'] = dict(chosen=3)
    with pytest.raises(KeyError, match='layers.2.9.expand_ratio_se'):
        load_fix_subnet(model, entries)


@pytest.mark.parametrize('kind', ['min', 'max', 'random', 'random'])
def test_subnets_export(supernet, kind):
    model, mutator = supernet
    torch.manual_seed(3)
    mutator.set_choices(mutator.sample_choices(kind))
    static = export_static_model(model).eval()
    check_plain(static)
    x = torch.randn(1, 3, 64, 64)
    diff = (tensor_outputs(static, x) - tensor_outputs(model, x)).abs().max()
    assert diff <= 1e-5, (kind, float(diff))


def test_subnet_onnx(supernet, tmp_path):
    model, mutator = supernet
    torch.manual_seed(4)
    mutator.set_choices(mutator.sample_choices())
    static = export_static_model(model).eval()
    assert onnx_diff(static, str(tmp_path / 'ofa.onnx')) <= 1e-4


def test_act_cfg_list_length():
    cfg = Config.fromfile(SUPERNET).nas_backbone
    cfg.act_cfg_list = ['ReLU'] * 7
    with pytest.raises(ValueError, match='at least 8 entries'):
        MODELS.build(cfg)
