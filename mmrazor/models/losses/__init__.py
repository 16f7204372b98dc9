# Copyright (c) OpenMMLab. All rights reserved.
"""Distillation losses, registered in ``MODELS`` under their class names."""
from .crd_loss import CRDLoss
from .cross_entropy_loss import CrossEntropyLoss
from .dafl_loss import ActivationLoss, InformationEntropyLoss, OnehotLikeLoss
from .dist_loss import DISTLoss
from .dkd_loss import DKDLoss
from .fbkd_loss import FBKDLoss
from .feature_distance import L1Loss, L2Loss, MGDLoss, OFDLoss, PKDLoss
from .feature_transfer import ABLoss, ATLoss, ChannelWiseDivergence, FTLoss
from .logit_kd import WSLD, KDSoftCELoss, KLDivergence
from .relational_kd import AngleWiseRKD, DistanceWiseRKD

__all__ = [
    'CrossEntropyLoss',
    'ABLoss', 'ATLoss', 'ActivationLoss', 'AngleWiseRKD', 'CRDLoss',
    'ChannelWiseDivergence', 'DISTLoss', 'DKDLoss', 'DistanceWiseRKD',
    'FBKDLoss', 'FTLoss', 'InformationEntropyLoss', 'KDSoftCELoss',
    'KLDivergence', 'L1Loss', 'L2Loss', 'MGDLoss', 'OFDLoss', 'OnehotLikeLoss',
    'PKDLoss', 'WSLD'
]
