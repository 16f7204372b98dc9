# Copyright (c) OpenMMLab. All rights reserved.
"""Searchable backbones."""
from .searchable_shufflenet_v2 import SearchableShuffleNetV2
from .simple_conv_net import SimpleConvNet

__all__ = ['SearchableShuffleNetV2', 'SimpleConvNet']
