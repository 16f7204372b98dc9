# Copyright (c) OpenMMLab. All rights reserved.
"""Datasets, samplers and transforms that mmrazor's algorithms need.

This package is the import location of the ``DATASETS``, ``DATA_SAMPLERS``
and ``TRANSFORMS`` registries of the ``mmrazor`` scope.
"""
from .crd_dataset_wrapper import CRDDataset
from .digits import DigitsDataset, digits_mean_std
from .transforms import PackCRDClsInputs

__all__ = ['CRDDataset', 'DigitsDataset', 'PackCRDClsInputs',
           'digits_mean_std']
