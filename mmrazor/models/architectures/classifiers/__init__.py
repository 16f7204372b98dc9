# Copyright (c) OpenMMLab. All rights reserved.
"""Classifiers of searchable models."""
from .searchable_image_classifier import SearchableImageClassifier

__all__ = ['SearchableImageClassifier']
