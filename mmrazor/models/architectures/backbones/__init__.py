# Copyright (c) OpenMMLab. All rights reserved.
"""Searchable backbones."""
from .attentive_mobilenet_v3 import AttentiveMobileNetV3
from .autoformer_backbone import AutoformerBackbone, AutoformerSubnet
from .darts_backbone import DartsBackbone
from .searchable_mobilenet_v2 import SearchableMobileNetV2
from .searchable_shufflenet_v2 import SearchableShuffleNetV2
from .simple_conv_net import SimpleConvNet
from .wide_resnet import WideResNet

__all__ = [
    'AttentiveMobileNetV3', 'SearchableMobileNetV2', 'SearchableShuffleNetV2',
    'SimpleConvNet', 'DartsBackbone', 'AutoformerBackbone',
    'AutoformerSubnet', 'WideResNet'
]
