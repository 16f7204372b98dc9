# Copyright (c) OpenMMLab. All rights reserved.
"""Channel units: groups of coupled channels and how they are pruned."""
from typing import TypeVar

from .channel_unit import Channel, MutableChannelUnit
from .dcff_unit import DCFFChannelUnit
from .dmcp_unit import DMCPChannelUnit
from .group_fisher_unit import GroupFisherChannelUnit
from .l1_unit import L1MutableChannelUnit
from .sequential_units import (
                               OneShotMutableChannelUnit,
                               SequentialMutableChannelUnit,
)
from .slimmable_unit import SlimmableChannelUnit

# the original MMRazor's type variable of unit classes
ChannelUnitType = TypeVar('ChannelUnitType', bound=MutableChannelUnit)

__all__ = [
    'Channel', 'MutableChannelUnit', 'SequentialMutableChannelUnit',
    'OneShotMutableChannelUnit', 'L1MutableChannelUnit',
    'SlimmableChannelUnit', 'DCFFChannelUnit', 'GroupFisherChannelUnit',
    'ChannelUnitType', 'DMCPChannelUnit'
]
