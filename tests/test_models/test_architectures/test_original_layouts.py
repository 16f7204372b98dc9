# Copyright (c) OpenMMLab. All rights reserved.
"""Block layouts of MMRazor 1.0: state-dict keys, shapes and sizes.

``data/original_layouts.json`` holds the keys and shapes of MMRazor 1.0.0
(the PyPI wheel) for the two tiny backbones below, written by building the
same configs with that package. The whole-supernet figures (keys and
parameters) were counted on the original's own configs the same way.
"""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmrazor.models import AttentiveMobileNetV3
from mmrazor.models.utils import export_static_model
from mmrazor.registry import MODELS

from ...conftest import CONFIG_DIR, tiny_arch_setting
from .test_attentive_mobilenet_v3 import TINY_ARCH, tiny_backbone

with open(osp.join(osp.dirname(__file__), 'data',
                   'original_layouts.json')) as f:
    ORIGINAL = json.load(f)


def layout(model: torch.nn.Module) -> dict:
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def tiny_attentive() -> AttentiveMobileNetV3:
    return MODELS.build(tiny_backbone())


def test_tiny_spos_backbone_has_the_original_keys_and_shapes():
    model = MODELS.build(
        dict(
            type='SearchableShuffleNetV2',
            arch_setting=tiny_arch_setting(),
            out_indices=(2, )))
    assert layout(model) == ORIGINAL['SearchableShuffleNetV2']


def test_tiny_attentive_backbone_has_the_original_keys_and_shapes():
    assert layout(tiny_attentive()) == ORIGINAL['AttentiveMobileNetV3']


@pytest.mark.parametrize('config, num_keys, num_params', [
    ('nas/mmcls/spos/spos_shufflenet_supernet_8xb128_in1k.py', 2006,
     8_488_600),
    ('nas/mmcls/bignas/attentive_mobilenet_supernet_32xb64_in1k.py', 804,
     23_934_704),
])
def test_supernets_have_the_original_sizes(config, num_keys, num_params):
    model = MODELS.build(Config.fromfile(osp.join(CONFIG_DIR, config)).model)
    assert len(model.state_dict()) == num_keys
    assert sum(p.numel() for p in model.parameters()) == num_params


def test_mask_entries_round_trip_and_leave_the_choice_alone():
    model = tiny_attentive()
    model.first_mutable_channels.current_choice = 8
    state = model.state_dict()
    mask = state['first_mutable_channels.mask']
    assert mask.dtype == torch.float32 and mask.tolist() == [1.] * 8 + [0.] * 8
    assert state['last_mutable_channels.mask'].sum() == 48

    fresh = tiny_attentive()
    fresh.load_state_dict(state, strict=True)
    # a checkpoint does not set the subnet: the mutator or a subnet file does
    assert fresh.first_mutable_channels.current_choice == 16
    # our older checkpoints, without the entries, load strictly too
    fresh.load_state_dict({
        k: v
        for k, v in state.items() if not k.endswith('mutable_channels.mask')
    })
    state['first_mutable_channels.mask'] = torch.ones(24)
    with pytest.raises(RuntimeError, match='size mismatch for '
                       'first_mutable_channels.mask'):
        fresh.load_state_dict(state)


def test_static_export_has_no_mask_entries():
    model = tiny_attentive().eval()
    static = export_static_model(model)
    assert not any(k.endswith('.mask') for k in static.state_dict())
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(static(x)[0], model(x)[0])


def test_every_block_has_a_shortcut_conv_identity_at_equal_widths():
    model = tiny_attentive().eval()
    blocks = [b for stage in model.layers[:-1] for b in stage]
    assert all(hasattr(b.shortcut, 'conv') for b in blocks)
    later = model.layer2[1]  # input and output follow the same mutable
    assert later.shortcut.conv.weight.shape == (24, 24, 1, 1)
    x = torch.randn(1, 24, 4, 4)
    assert later.shortcut(x) is x
    static = export_static_model(model)
    assert isinstance(static.layer2[1].shortcut.conv, torch.nn.Identity)


@pytest.mark.parametrize('empty', [None, []])
def test_stride_list_is_optional(empty):
    cfg = tiny_backbone(stride_list=empty)
    del cfg['type']
    cfg['arch_setting'] = dict(TINY_ARCH, num_blocks=[[1, 2, 1]] * 7,
                               kernel_size=[[3, 5, 2]] * 7,
                               expand_ratio=[[1, 1, 1]] + [[2, 3, 1]] * 7,
                               num_out_channels=[[8, 16, 8]] * 9)
    cfg.update(with_se_list=None, act_cfg_list=None, out_indices=(7, ))
    model = AttentiveMobileNetV3(**cfg)
    assert [s[0].stride for s in model.layers[:-1]] == [1, 2, 2, 2, 1, 2, 1]


def test_autoslim_algorithm_has_the_original_keys_and_shapes():
    """The whole AutoSlim algorithm (architecture and the mutator's
    ``units.N.mutable_channel.mask`` entries) as MMRazor 1.0.0 builds it
    from the original's supernet config."""
    with open(osp.join(osp.dirname(__file__), 'data',
                       'original_autoslim_layout.json')) as f:
        original = json.load(f)['AutoSlim']
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, 'pruning', 'mmcls', 'autoslim',
                 'autoslim_mbv2_1.5x_supernet_8xb256_in1k.py'))
    model = MODELS.build(cfg.model)
    state = model.state_dict()
    assert list(layout(model)) == list(original)
    assert layout(model) == original
    mutator = model.mutator
    mutator.set_choices(mutator.sample_choices('min'))
    first = mutator.units[0]
    assert state['mutator.units.0.mutable_channel.mask'].sum() == 48
    assert model.state_dict()['mutator.units.0.mutable_channel.mask'].sum(
    ) == first.activated_channels
    # loading the max-width masks leaves the current (min) widths alone
    smallest = mutator.current_choices
    model.load_state_dict(state, strict=True)
    assert mutator.current_choices == smallest
    # checkpoints without the entries load strictly too
    model.load_state_dict(
        {k: v for k, v in state.items() if not k.startswith('mutator.')})
    bad = dict(state)
    bad['mutator.units.0.mutable_channel.mask'] = torch.ones(7)
    with pytest.raises(RuntimeError, match='unit .* has 48 channels'):
        model.load_state_dict(bad)
