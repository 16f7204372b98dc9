# Copyright (c) OpenMMLab. All rights reserved.
"""Connectors: modules that map recorded features to what distillation
losses compare."""
from .base_connector import BaseConnector
from .byot_connector import BYOTConnector
from .channel_spatial_connector import ChannelSpatialConnector
from .conv_module_connector import ConvModuleConnector, NormConnector
from .crd_connector import CRDConnector
from .factor_transfer_connectors import Paraphraser, Translator
from .fbkd_connector import FBKDStudentConnector, FBKDTeacherConnector
from .mgd_connector import MGDConnector
from .ofd_connector import OFDTeacherConnector
from .torch_connector import TorchFunctionalConnector, TorchNNConnector

__all__ = [
    'BaseConnector', 'BYOTConnector', 'ChannelSpatialConnector',
    'ConvModuleConnector', 'CRDConnector', 'FBKDStudentConnector',
    'FBKDTeacherConnector', 'MGDConnector', 'NormConnector',
    'OFDTeacherConnector', 'Paraphraser', 'TorchFunctionalConnector',
    'TorchNNConnector', 'Translator'
]
