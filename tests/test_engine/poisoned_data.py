# Copyright (c) OpenMMLab. All rights reserved.
"""A test dataset: fake images, some holding a NaN or inf pixel."""
from mmrazor.registry import DATASETS
from mmrazor.testing import FakeClsDataset


@DATASETS.register_module(force=True)
class PoisonedClsDataset(FakeClsDataset):
    """:class:`FakeClsDataset` as float images, ``value`` in one pixel of
    the images at the indices ``poisoned``."""

    def __init__(self, poisoned=(), value=float('nan'), **kwargs):
        super().__init__(**kwargs)
        self.poisoned = tuple(poisoned)
        self.value = value

    def __getitem__(self, index):
        item = super().__getitem__(index)
        item['inputs'] = item['inputs'].float()
        if index in self.poisoned:
            item['inputs'][0, 0, 0] = self.value
        return item
