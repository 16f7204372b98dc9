# Copyright (c) OpenMMLab. All rights reserved.
"""Mutables: what can change in a supernet."""
from .base_mutable import BaseMutable
from .derived_mutable import DerivedMutable, make_divisible
from .diff_choice_route import DiffChoiceRoute, GumbelChoiceRoute
from .diff_mutable_op import DiffMutableOP
from .mutable_channel import (
                              MutableChannel,
                              MutableChannelContainer,
                              OneShotMutableChannel,
                              SequentialMutableChannel,
                              SimpleMutableChannel,
                              SquentialMutableChannel,
)
from .mutable_channel.units import (
                              Channel,
                              DCFFChannelUnit,
                              GroupFisherChannelUnit,
                              L1MutableChannelUnit,
                              MutableChannelUnit,
                              OneShotMutableChannelUnit,
                              SequentialMutableChannelUnit,
)
from .mutable_module import OneShotMutableOP
from .mutable_value import OneShotMutableValue
from .one_hot_mutable_op import OneHotMutableOP

__all__ = [
    'BaseMutable', 'OneShotMutableOP', 'OneShotMutableValue',
    'DerivedMutable', 'make_divisible', 'MutableChannel',
    'MutableChannelContainer', 'OneShotMutableChannel',
    'SequentialMutableChannel', 'SimpleMutableChannel',
    'SquentialMutableChannel', 'Channel', 'MutableChannelUnit',
    'SequentialMutableChannelUnit', 'OneShotMutableChannelUnit',
    'L1MutableChannelUnit', 'DCFFChannelUnit', 'GroupFisherChannelUnit',
    'DiffMutableOP', 'DiffChoiceRoute', 'GumbelChoiceRoute', 'OneHotMutableOP'
]
