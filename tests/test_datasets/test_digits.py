# Copyright (c) OpenMMLab. All rights reserved.
import sys
from collections import Counter

import numpy as np
import pytest
import torch
from mmcls.models import ClsDataPreprocessor
from mmcls.structures import ClsDataSample
from mmengine.dataset import DefaultSampler, pseudo_collate
from torch.utils.data import DataLoader

from mmrazor.datasets import DigitsDataset, digits_mean_std
from mmrazor.registry import DATASETS


@pytest.fixture(scope='module')
def train_set():
    return DigitsDataset(split='train')


@pytest.fixture(scope='module')
def val_set():
    return DigitsDataset(split='val')


def _field(dataset, key):
    return [dataset.get_data_info(i)[key] for i in range(len(dataset))]


def _labels(dataset):
    return _field(dataset, 'gt_label')


def _sources(dataset):
    return _field(dataset, 'source_idx')


def test_split_sizes_and_metainfo(train_set, val_set):
    assert (len(train_set), len(val_set)) == (1437, 360)
    assert train_set.metainfo['classes'] == tuple('0123456789')


def test_splits_are_disjoint_and_stratified(train_set, val_set):
    train, val = set(_sources(train_set)), set(_sources(val_set))
    assert not train & val
    assert len(train | val) == 1797
    train_counts, val_counts = Counter(_labels(train_set)), Counter(
        _labels(val_set))
    for label in range(10):
        total = train_counts[label] + val_counts[label]
        # Every class keeps its share of the val split, to one image.
        assert abs(val_counts[label] - 0.2 * total) <= 1


def test_split_is_deterministic(val_set):
    again = DigitsDataset(split='val')
    assert _sources(again) == _sources(val_set)
    info, info_again = val_set.get_data_info(5), again.get_data_info(5)
    np.testing.assert_array_equal(info['img'], info_again['img'])
    other = DigitsDataset(split='val', seed=1)
    assert _sources(other) != _sources(val_set)
    assert len(DigitsDataset(split='val', val_ratio=0.5)) == 899


def test_images_and_items(val_set):
    info = val_set.get_data_info(0)
    img = info['img']
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    assert (img[..., 0] == img[..., 2]).all()
    assert img.max() > 200 and img.min() == 0
    item = val_set[0]
    assert set(item) == {'inputs', 'data_samples'}
    assert item['inputs'].shape == (3, 32, 32)
    assert item['inputs'].dtype == torch.uint8
    assert isinstance(item['data_samples'], ClsDataSample)
    assert item['data_samples'].gt_label.label.item() == info['gt_label']
    small = DigitsDataset(split='val', image_size=8, indices=2)
    assert len(small) == 2
    assert small[0]['inputs'].shape == (3, 8, 8)


def test_pipeline_with_mmcls_transforms():
    dataset = DATASETS.build(
        dict(
            type='mmrazor.DigitsDataset',
            indices=4,
            pipeline=[
                dict(type='mmcls.RandomCrop', crop_size=32, padding=2),
                dict(type='mmcls.PackClsInputs'),
            ]))
    item = dataset[3]
    assert item['inputs'].shape == (3, 32, 32)
    assert item['data_samples'].gt_label.label.item() == dataset.get_data_info(
        3)['gt_label']


def test_mean_std_constants():
    mean, std = digits_mean_std(32)
    np.testing.assert_allclose(DigitsDataset.MEAN, mean, atol=0.01)
    np.testing.assert_allclose(DigitsDataset.STD, std, atol=0.01)


def test_dataloader_and_data_preprocessor(val_set):
    loader = DataLoader(
        val_set,
        batch_size=64,
        sampler=DefaultSampler(val_set, shuffle=False),
        collate_fn=pseudo_collate)
    assert len(loader) == 6
    preprocessor = ClsDataPreprocessor(
        mean=DigitsDataset.MEAN, std=DigitsDataset.STD, to_rgb=False)
    data = preprocessor(next(iter(loader)), False)
    inputs = data['inputs']
    assert inputs.shape == (64, 3, 32, 32) and inputs.dtype == torch.float32
    assert abs(inputs.mean().item()) < 0.2
    assert abs(inputs.std().item() - 1) < 0.2
    assert len(data['data_samples']) == 64


@pytest.mark.parametrize('kwargs, field', [
    (dict(split='test'), "split must be one of ('train', 'val')"),
    (dict(val_ratio=0), 'val_ratio'),
    (dict(val_ratio=1.0), 'val_ratio'),
    (dict(val_ratio=0.001), 'val_ratio'),
    (dict(val_ratio='0.2'), 'val_ratio'),
    (dict(image_size=4), 'image_size must be an int >= 8'),
    (dict(image_size=32.0), 'image_size'),
])
def test_invalid_arguments(kwargs, field):
    with pytest.raises(ValueError, match=field.replace('(', r'\(').replace(
            ')', r'\)')) as info:
        DigitsDataset(**kwargs)
    assert 'received' in str(info.value)


def test_missing_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, 'sklearn.datasets', None)
    with pytest.raises(ImportError, match='pip install scikit-learn'):
        DigitsDataset(split='val')
