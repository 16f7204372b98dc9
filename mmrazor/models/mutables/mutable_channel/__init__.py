# Copyright (c) OpenMMLab. All rights reserved.
"""Mutable channels and the container that assembles them per layer."""
from ._index import (
                     ChannelIndex,
                     mask_to_index,
                     num_selected,
                     prefix_index,
                     select,
)
from .mutable_channel_container import MutableChannelContainer
from .mutable_channels import (
                     MutableChannel,
                     SequentialMutableChannel,
                     SimpleMutableChannel,
                     SquentialMutableChannel,
)
from .one_shot_mutable_channel import OneShotMutableChannel
from .units import (
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

# the original MMRazor's name of the base of channel mutables
BaseMutableChannel = MutableChannel

__all__ = [
    'MutableChannel', 'SimpleMutableChannel', 'SquentialMutableChannel',
    'SequentialMutableChannel', 'OneShotMutableChannel',
    'MutableChannelContainer', 'ChannelIndex', 'mask_to_index', 'num_selected',
    'prefix_index', 'select', 'Channel', 'MutableChannelUnit',
    'SequentialMutableChannelUnit', 'OneShotMutableChannelUnit',
    'L1MutableChannelUnit', 'DCFFChannelUnit', 'DMCPChannelUnit',
    'GroupFisherChannelUnit',
    'SlimmableChannelUnit', 'BaseMutableChannel', 'ChannelUnitType'
]
