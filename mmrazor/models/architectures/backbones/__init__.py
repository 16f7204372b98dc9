# Copyright (c) OpenMMLab. All rights reserved.
"""Searchable backbones."""
from .searchable_shufflenet_v2 import SearchableShuffleNetV2

__all__ = ['SearchableShuffleNetV2']
