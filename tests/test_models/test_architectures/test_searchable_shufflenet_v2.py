# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.models import OneShotMutableOP, SearchableShuffleNetV2
from mmrazor.registry import MODELS

from ...conftest import tiny_arch_setting


def build(**kwargs):
    cfg = dict(
        type='SearchableShuffleNetV2',
        arch_setting=tiny_arch_setting(),
        out_indices=(2, ))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_layers_built_from_arch_setting(spos_arch_setting):
    model = MODELS.build(
        dict(type='SearchableShuffleNetV2', arch_setting=spos_arch_setting))
    assert len(model.layers) == 5
    blocks = [b for layer in model.layers[:4] for b in layer]
    assert len(blocks) == 20
    assert all(isinstance(b, OneShotMutableOP) for b in blocks)
    first = model.layers[0][0]._candidates['shuffle_3x3']
    assert (first.in_channels, first.out_channels, first.stride) == (16, 64,
                                                                     2)
    second = model.layers[0][1]._candidates['shuffle_3x3']
    assert (second.in_channels, second.stride) == (64, 1)
    assert model.layers[3][0]._candidates['shuffle_xception'].out_channels \
        == 640


def test_forward_out_indices():
    model = build(out_indices=(0, 1, 2), with_last_layer=True).eval()
    outs = model(torch.randn(2, 3, 32, 32))
    assert [o.shape for o in outs] == [(2, 32, 8, 8), (2, 64, 4, 4),
                                       (2, 1024, 4, 4)]
    model = build(out_indices=(1, ), with_last_layer=False).eval()
    (out, ) = model(torch.randn(1, 3, 32, 32))
    assert out.shape == (1, 64, 4, 4)


def test_widen_and_stem_multiplier():
    model = build(widen_factor=2.0, stem_multiplier=2, out_indices=(1, ),
                  with_last_layer=False)
    assert model.conv1.conv.out_channels == 32
    assert model.layers[1][0]._candidates['shuffle_3x3'].out_channels == 128


@pytest.mark.parametrize('index', [5, -1])
def test_out_indices_message(index):
    with pytest.raises(ValueError) as err:
        build(out_indices=(index, ))
    assert str(err.value) == ('the item in out_indices must in range(0, 5). '
                              f'But received {index}')


def test_out_indices_without_last_layer():
    with pytest.raises(ValueError, match='But received 4'):
        build(out_indices=(4, ), with_last_layer=False)


@pytest.mark.parametrize('stages', [-2, 5])
def test_frozen_stages_message(stages):
    with pytest.raises(ValueError) as err:
        build(frozen_stages=stages)
    assert str(err.value) == ('frozen_stages must be in range(-1, 5). '
                              f'But received {stages}')


def test_out_indices_beyond_the_built_layers():
    with pytest.raises(ValueError, match='has 3 layers'):
        build(out_indices=(3, ))


def test_frozen_stages_beyond_the_built_layers():
    with pytest.raises(ValueError, match='exceeds the 3 layers'):
        build(frozen_stages=4)


def test_bad_arch_row():
    with pytest.raises(ValueError, match=r'arch_setting\[0\]'):
        MODELS.build(
            dict(type='SearchableShuffleNetV2', arch_setting=[[16, 2]]))


def test_frozen_stages():
    model = build(frozen_stages=1)
    model.train()
    assert all(not p.requires_grad for p in model.conv1.parameters())
    assert not model.conv1.training
    assert all(not p.requires_grad for p in model.layers[0].parameters())
    assert all(p.requires_grad for p in model.layers[1].parameters())
    assert not model.layers[0].training
    assert model.layers[1].training


def test_norm_eval():
    model = build(norm_eval=True)
    model.train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and all(not m.training for m in norms)
    model = build(norm_eval=False).train()
    assert all(m.training for m in model.modules()
               if isinstance(m, _BatchNorm))


def test_init_weights():
    model = build()
    model.init_weights()
    assert abs(model.conv1.conv.weight.std().item() - 0.01) < 0.005
    bn = model.layers[0][0]._candidates['shuffle_3x3'].branch2[0].bn
    assert torch.all(bn.weight == 1) and torch.allclose(
        bn.bias, torch.full_like(bn.bias, 1e-4))



@pytest.mark.parametrize('as_list', [False, True])
def test_init_weights_keeps_pretrained(tmp_path, as_list):
    source = build()
    source.init_weights()
    ckpt = tmp_path / 'backbone.pth'
    torch.save(source.state_dict(), ckpt)
    init_cfg = dict(type='Pretrained', checkpoint=str(ckpt))
    model = build(init_cfg=[init_cfg] if as_list else init_cfg)
    assert isinstance(model, SearchableShuffleNetV2)
    model.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value)


def test_with_cp_uses_checkpointing(monkeypatch):
    from mmrazor.models.architectures import _checkpointing as module
    calls = []
    original = module.checkpoint

    def counting(fn, *args, **kwargs):
        calls.append(fn)
        return original(fn, *args, **kwargs)

    monkeypatch.setattr(module, 'checkpoint', counting)
    torch.manual_seed(0)
    model = build(with_cp=True, out_indices=(1, ), with_last_layer=False)
    ref = build(with_cp=False, out_indices=(1, ), with_last_layer=False)
    ref.load_state_dict(model.state_dict())
    for net in (model, ref):
        for layer in net.layers:
            for block in layer:
                block.current_choice = 'shuffle_5x5'
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    out = model.train()(x)[0]
    out.sum().backward()
    assert len(calls) == 4  # one per block
    ref_out = ref.train()(x)[0]
    ref_out.sum().backward()
    torch.testing.assert_close(out, ref_out)
    # The recomputation in backward does not update BN statistics again.
    ref_state = ref.state_dict()
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, ref_state[key], msg=key)
    # No checkpointing in eval mode.
    calls.clear()
    model.eval()(x)
    assert not calls
