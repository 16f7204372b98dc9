# Copyright (c) OpenMMLab. All rights reserved.
"""Mutables: what can change in a supernet."""
from mmrazor.utils.channels import make_divisible

from .base_mutable import BaseMutable
from .derived_mutable import DerivedMutable
from .diff_choice_route import DiffChoiceRoute, GumbelChoiceRoute
from .diff_mutable_op import DiffMutableOP
from .mutable_channel import (
                              BaseMutableChannel,
                              MutableChannel,
                              MutableChannelContainer,
                              OneShotMutableChannel,
                              SequentialMutableChannel,
                              SimpleMutableChannel,
                              SquentialMutableChannel,
)
from .mutable_channel.units import (
                              Channel,
                              ChannelUnitType,
                              DCFFChannelUnit,
                              DMCPChannelUnit,
                              GroupFisherChannelUnit,
                              L1MutableChannelUnit,
                              MutableChannelUnit,
                              OneShotMutableChannelUnit,
                              SequentialMutableChannelUnit,
                              SlimmableChannelUnit,
)
from .mutable_module import (
                              DiffMutableModule,
                              MutableModule,
                              OneShotMutableModule,
                              OneShotMutableOP,
)
from .mutable_value import MutableValue, OneShotMutableValue
from .one_hot_mutable_op import OneHotMutableOP
from .one_shot_prob_mutable_op import OneShotProbMutableOP

__all__ = [
    'BaseMutable', 'OneShotMutableOP', 'OneShotMutableValue',
    'DerivedMutable', 'make_divisible', 'MutableChannel',
    'MutableChannelContainer', 'OneShotMutableChannel',
    'SequentialMutableChannel', 'SimpleMutableChannel',
    'SquentialMutableChannel', 'Channel', 'MutableChannelUnit',
    'SequentialMutableChannelUnit', 'OneShotMutableChannelUnit',
    'L1MutableChannelUnit', 'DCFFChannelUnit', 'DMCPChannelUnit',
    'GroupFisherChannelUnit',
    'DiffMutableOP', 'DiffChoiceRoute', 'GumbelChoiceRoute', 'OneHotMutableOP',
    'MutableValue', 'MutableModule', 'OneShotMutableModule',
    'DiffMutableModule', 'BaseMutableChannel', 'SlimmableChannelUnit',
    'ChannelUnitType', 'OneShotProbMutableOP'
]
