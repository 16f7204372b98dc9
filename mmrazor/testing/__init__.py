# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers for tests and smoke runs: fake data and config rewriting."""
from .fake_data import FakeClsDataset, use_fake_data

__all__ = ['FakeClsDataset', 'use_fake_data']
