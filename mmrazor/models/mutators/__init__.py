# Copyright (c) OpenMMLab. All rights reserved.
"""Mutators: collect the mutables of a supernet and decide their choices."""
from .channel_mutator import (
                              ChannelMutator,
                              DCFFChannelMutator,
                              GroupFisherChannelMutator,
                              OneShotChannelMutator,
                              SlimmableChannelMutator,
)
from .dmcp_channel_mutator import DMCPChannelMutator
from .nas_mutator import NasMutator

__all__ = [
    'ChannelMutator', 'NasMutator', 'DCFFChannelMutator',
    'GroupFisherChannelMutator', 'OneShotChannelMutator',
    'SlimmableChannelMutator', 'DMCPChannelMutator'
]
