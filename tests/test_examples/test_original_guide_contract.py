# Copyright (c) OpenMMLab. All rights reserved.
"""What the original MMRazor's "Customize Architectures" guide shows of
``SearchableShuffleNetV2`` stays valid: its constructor arguments and
defaults, ``_make_layer(out_channels, num_blocks, mutable_cfg)`` passing
``module_kwargs``, its two error messages, and both ways of importing the
module (the backbones ``__init__`` and ``custom_imports`` by module path).
"""
import importlib
import inspect

import pytest

from mmrazor.models.architectures.backbones import SearchableShuffleNetV2
from mmrazor.registry import MODELS

from .conftest import ROOT

# The constructor as the original guide writes it (step 2).
GUIDE_ARGS = dict(
    arch_setting=inspect.Parameter.empty,
    stem_multiplier=1,
    widen_factor=1.0,
    out_indices=(4, ),
    frozen_stages=-1,
    with_last_layer=True,
    conv_cfg=None,
    norm_cfg=dict(type='BN'),
    act_cfg=dict(type='ReLU'),
    norm_eval=False,
    with_cp=False,
    init_cfg=None)
STAGE = dict(
    _scope_='mmrazor',
    type='OneShotMutableOP',
    candidates=dict(
        shuffle_3x3=dict(type='ShuffleBlock', kernel_size=3),
        shuffle_xception=dict(type='ShuffleXception')))


def test_constructor_arguments_and_defaults():
    params = inspect.signature(SearchableShuffleNetV2.__init__).parameters
    assert [p for p in params if p != 'self'] == list(GUIDE_ARGS)
    for name, default in GUIDE_ARGS.items():
        assert params[name].default == default, name
    layer = inspect.signature(SearchableShuffleNetV2._make_layer).parameters
    assert list(layer) == ['self', 'out_channels', 'num_blocks',
                           'mutable_cfg']


def test_make_layer_passes_module_kwargs():
    backbone = SearchableShuffleNetV2(
        arch_setting=[[32, 2, STAGE]], out_indices=(0, ),
        with_last_layer=False)
    first, second = backbone.layers[0]
    for block, (in_ch, stride) in ((first, (16, 2)), (second, (32, 1))):
        block.current_choice = 'shuffle_3x3'
        op = block.chosen_op()
        assert (op.in_channels, op.out_channels, op.stride) == (in_ch, 32,
                                                                stride)


@pytest.mark.parametrize('kwargs, message', [
    (dict(out_indices=(5, )),
     'the item in out_indices must in range(0, 5). But received 5'),
    (dict(frozen_stages=5),
     'frozen_stages must be in range(-1, 5). But received 5'),
])
def test_error_messages_word_for_word(kwargs, message):
    with pytest.raises(ValueError) as error:
        SearchableShuffleNetV2(arch_setting=[[32, 1, STAGE]], **kwargs)
    assert str(error.value) == message


def test_both_import_paths():
    init = (ROOT / 'mmrazor' / 'models' / 'architectures' / 'backbones' /
            '__init__.py').read_text()
    assert 'from .searchable_shufflenet_v2 import SearchableShuffleNetV2' \
        in init
    module = importlib.import_module(
        'mmrazor.models.architectures.backbones.searchable_shufflenet_v2')
    assert module.SearchableShuffleNetV2 is SearchableShuffleNetV2
    assert 'SearchableShuffleNetV2' in importlib.import_module(
        'mmrazor.models.architectures.backbones').__all__
    assert MODELS.get('mmrazor.SearchableShuffleNetV2') is \
        SearchableShuffleNetV2
