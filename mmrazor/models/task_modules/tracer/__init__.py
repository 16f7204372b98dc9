# Copyright (c) OpenMMLab. All rights reserved.
"""Channel tracing: :class:`ChannelAnalyzer` finds the channel units of any
model (groups of channels that must be pruned together)."""
from .channel_analyzer import ChannelAnalyzer

__all__ = ['ChannelAnalyzer']
