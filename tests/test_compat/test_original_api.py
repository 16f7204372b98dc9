# Copyright (c) OpenMMLab. All rights reserved.
"""What users' own code written for MMRazor 1.0 calls, with the values the
original gives (worked out by hand from its rules)."""
import copy

import pytest
import torch
import torch.nn as nn


def test_value_mutable_arithmetic_follows_the_source():
    from mmrazor.models.mutables import MutableValue, OneShotMutableValue
    value = OneShotMutableValue([8, 16])
    doubled, halved, left = value * 2, value // 2, 2 * value
    # // (ratio, divisor): make_divisible(16 // 3 = 5, 4) rounds 5 down to
    # 4, which keeps < 90% of 5, so one divisor more: 8
    rounded = value // (3, 4)
    assert (doubled.current_choice, halved.current_choice,
            left.current_choice, rounded.current_choice) == (32, 8, 32, 8)
    value.current_choice = 8
    # 8 // 2 = 4 is rounded up to the divisor 8 (the original's default)
    assert (doubled.current_choice, halved.current_choice) == (16, 8)
    assert value.derive_expand_mutable(3).current_choice == 24
    assert value.derive_same_mutable().current_choice == 8
    assert MutableValue([3, 5]).current_choice == 3  # the first value
    with pytest.raises(TypeError):
        value * 'x'


def test_channel_arithmetic_and_concat():
    from mmrazor.models.mutables import (
        BaseMutableChannel,
        DerivedMutable,
        OneShotMutableValue,
        SquentialMutableChannel,
    )
    channel = SquentialMutableChannel(16)
    assert isinstance(channel, BaseMutableChannel)
    expanded = channel * 2
    ratio = OneShotMutableValue([4, 6])
    scaled = channel * ratio
    assert (expanded.num_channels, scaled.num_channels) == (32, 96)
    channel.current_choice = 8
    ratio.current_choice = 4
    assert expanded.activated_channels == 16
    assert expanded.current_mask.tolist() == [True] * 16 + [False] * 16
    assert scaled.current_choice == 32
    other = SquentialMutableChannel(4)
    other.current_choice = 2
    concat = DerivedMutable.derive_concat_mutable([channel, other])
    assert concat.current_choice == 10
    assert concat.current_mask.tolist() == \
        [True] * 8 + [False] * 8 + [True] * 2 + [False] * 2
    assert concat.activated_index.tolist() == list(range(8)) + [16, 17]
    assert concat.source_mutables == [channel, other]
    # a deep copy of a module holding both derives from the copies
    holder = nn.Module()
    holder.channel, holder.expanded = channel, expanded
    copied = copy.deepcopy(holder)
    copied.channel.current_choice = 4
    assert copied.expanded.activated_channels == 8
    assert expanded.activated_channels == 16


def test_one_shot_mutable_module_paths():
    from mmrazor.models.mutables import (
        MutableModule,
        OneShotMutableModule,
        OneShotMutableOP,
    )
    op = OneShotMutableOP(candidates=dict(
        a=nn.Identity(), b=nn.Sequential(nn.Identity())))
    assert isinstance(op, OneShotMutableModule)
    assert isinstance(op, MutableModule)
    x = torch.ones(2)
    assert op.forward_all(x).tolist() == [2.0, 2.0]
    assert op.forward_choice(x, 'b').tolist() == [1.0, 1.0]
    op.current_choice = 'a'
    assert op.forward_choice(x).tolist() == [1.0, 1.0]
    op.fix_chosen('a')
    assert op.forward_fixed(x).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError):
        op.forward_choice(x, 'c')


def test_dynamic_op_bases_and_paths():
    from mmrazor.models.architectures.dynamic_ops import (
        DynamicBatchNorm2d,
        DynamicBatchNorm3d,
        DynamicBatchNormXd,
        DynamicChannelMixin,
        DynamicConv2d,
        DynamicMixin,
        DynamicSequential,
        FuseConv2d,
        OFAConv2d,
    )
    from mmrazor.models.architectures.dynamic_ops.bricks import (
        FuseConv2d as BricksFuseConv2d,
    )
    from mmrazor.models.architectures.dynamic_ops.head import (
        DynamicLinearClsHead,  # noqa: F401
    )
    from mmrazor.models.architectures.dynamic_ops.mixins import (
        DynamicConvMixin,
    )
    from mmrazor.models.mutables import SquentialMutableChannel
    assert BricksFuseConv2d is FuseConv2d
    assert issubclass(OFAConv2d, DynamicConvMixin)
    for op in (DynamicConv2d, DynamicBatchNorm2d, DynamicSequential):
        assert issubclass(op, DynamicMixin)
        assert issubclass(op, DynamicChannelMixin)
    # torch 2.x keeps _modules in a plain dict: convert_from must not need
    # OrderedDict.move_to_end
    seq = DynamicSequential.convert_from(
        nn.Sequential(nn.ReLU(), nn.Identity()))
    assert list(seq._modules) == ['0', '1', 'mutable_attrs']
    # the 3-d and any-dim batch norms slice like the 2-d one
    torch.manual_seed(0)
    for dynamic, static, shape in (
            (DynamicBatchNorm3d, nn.BatchNorm3d, (2, 6, 2, 2, 2)),
            (DynamicBatchNormXd, None, (2, 6, 3))):
        op = dynamic(6)
        op.running_mean.normal_()
        op.weight.data.normal_()
        channel = SquentialMutableChannel(6)
        op.register_mutable_attr('num_features', channel)
        channel.current_choice = 4
        op.eval()
        x = torch.randn(*shape[:1], 4, *shape[2:])
        out = op(x)
        exported = op.to_static_op().eval()
        assert exported.num_features == 4
        if static is not None:
            assert type(exported) is static
        assert torch.allclose(exported(x), out, atol=1e-6)


def test_small_helpers_at_the_original_paths():
    import torch.nn.functional as F
    from mmengine.model import MMDistributedDataParallel

    import mmrazor.registry
    from mmrazor import digit_version
    from mmrazor.models.algorithms import AutoSlimDDP
    from mmrazor.models.losses import CrossEntropyLoss
    from mmrazor.models.utils import parse_values, str2class
    from mmrazor.structures import convert_fix_subnet
    from mmrazor.utils import DumpChosen, IndexDict, get_placeholder
    assert digit_version('1.0.0') > digit_version('0.9')
    assert AutoSlimDDP is MMDistributedDataParallel
    assert mmrazor.registry.sub_model.__name__ == 'sub_model'
    student, teacher = torch.randn(4, 5), torch.randn(4, 5)
    assert torch.allclose(
        CrossEntropyLoss(2.0)(student, teacher),
        2 * F.cross_entropy(student, teacher.argmax(1)))
    assert parse_values([(1, 5, 2)]) == [[1, 3, 5]]
    assert str2class(('torch.nn.ReLU', )) == (nn.ReLU, )
    with pytest.raises(ValueError, match='only'):
        str2class('os.system')
    assert convert_fix_subnet({'a': DumpChosen(3, {}), 'b': 'x'}) == {
        'a': dict(chosen=3), 'b': dict(chosen='x')}
    ranges = IndexDict()
    ranges[(4, 8)] = 'b'
    ranges[(0, 4)] = 'a'
    assert list(ranges) == [(0, 4), (4, 8)]
    assert (2, 5) in ranges and (8, 9) not in ranges
    with pytest.raises(ValueError, match='overlaps'):
        ranges[(6, 10)] = 'c'
    with pytest.raises(ImportError, match='mmdet'):
        get_placeholder('mmdet')()


def test_connectors_given_as_a_list_run_in_order():
    from mmrazor.models.distillers import ConfigurableDistiller
    distiller = ConfigurableDistiller(connectors=dict(pair=[
        dict(type='ConvModuleConnector', in_channel=4, out_channel=6,
             norm_cfg=None, act_cfg=None),
        dict(type='ConvModuleConnector', in_channel=6, out_channel=2,
             norm_cfg=None, act_cfg=None)
    ]))
    pair = distiller.connectors['pair']
    assert isinstance(pair, nn.Sequential) and len(pair) == 2
    x = torch.randn(1, 4, 3, 3)
    assert torch.allclose(pair(x), pair[1](pair[0](x)))
    assert pair(x).shape == (1, 2, 3, 3)
