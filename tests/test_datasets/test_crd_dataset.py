# Copyright (c) OpenMMLab. All rights reserved.
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmrazor.datasets import CRDDataset, PackCRDClsInputs
from mmrazor.models.losses import CRDLoss
from mmrazor.registry import DATASETS
from mmrazor.testing.fake_data import FakeRawClsDataset

PIPELINE = [dict(type='mmrazor.PackCRDClsInputs')]


def wrapped(num_samples=12, labels=3, test_mode=False, **kwargs):
    kwargs.setdefault('neg_num', 5)
    kwargs.setdefault('percent', 1.0)
    return DATASETS.build(
        dict(
            type='mmrazor.CRDDataset',
            dataset=dict(
                type='mmrazor.FakeRawClsDataset',
                num_samples=num_samples,
                image_size=8,
                num_classes=labels,
                pipeline=PIPELINE,
                test_mode=test_mode),
            **kwargs))


def test_exact_mode_contrast_indices():
    np.random.seed(0)
    ds = wrapped()
    assert isinstance(ds, CRDDataset) and len(ds) == 12
    labels = np.arange(12) % 3
    for idx in range(12):
        contrast = ds.get_data_info(idx)['contrast_sample_idxs']
        assert contrast.shape == (6, ) and contrast[0] == idx
        # negatives: other classes only, no repeats (8 are available)
        assert (labels[contrast[1:]] != labels[idx]).all()
        assert len(set(contrast[1:].tolist())) == 5


def test_random_mode_replacement_and_percent():
    np.random.seed(0)
    ds = wrapped(sample_mode='random', neg_num=20)
    labels = np.arange(12) % 3
    for idx in range(12):
        contrast = ds.get_data_info(idx)['contrast_sample_idxs']
        assert labels[contrast[0]] == labels[idx]  # a same-class positive
        # 20 negatives from 8 candidates: drawn with replacement
        assert contrast.shape == (21, )
        assert set(contrast[1:].tolist()) <= set(np.flatnonzero(
            labels != labels[idx]).tolist())
    half = wrapped(percent=0.5)
    assert [len(n) for n in half.cls_negative] == [4, 4, 4]
    for label, negatives in enumerate(half.cls_negative):
        assert (labels[negatives] != label).all()


def test_test_mode_passes_samples_through():
    ds = wrapped(test_mode=True)
    assert 'contrast_sample_idxs' not in ds.get_data_info(3)
    sample = ds[3]['data_samples']
    assert int(sample.sample_idx) == 3
    assert 'contrast_sample_idxs' not in sample


def test_packed_batch_feeds_crd_loss():
    np.random.seed(0)
    ds = wrapped()
    batch = pseudo_collate([ds[i] for i in (4, 7)])
    assert tuple(batch['inputs'][0].shape) == (3, 8, 8)
    samples = batch['data_samples']
    assert [int(s.sample_idx) for s in samples] == [4, 7]
    assert 'sample_idx' not in samples[0].metainfo_keys()
    loss = CRDLoss(neg_num=5, sample_n=12, dim_out=4)
    idx, contrast = loss._indices(samples, 2)
    assert idx.tolist() == [4, 7]
    torch.testing.assert_close(
        contrast, torch.stack([s.contrast_sample_idxs for s in samples]))
    feats = torch.nn.functional.normalize(torch.randn(2, 4), dim=1)
    assert torch.isfinite(loss(feats, feats.clone(), samples))


def test_pack_keeps_mmcls_fields():
    packed = PackCRDClsInputs()(
        dict(img=np.zeros((5, 6, 3), np.uint8), gt_label=2, sample_idx=9,
             img_shape=(5, 6), contrast_sample_idxs=np.array([9, 1, 2])))
    sample = packed['data_samples']
    assert tuple(packed['inputs'].shape) == (3, 5, 6)
    assert int(sample.gt_label.label) == 2
    assert sample.img_shape == (5, 6)
    assert sample.contrast_sample_idxs.dtype == torch.long
    assert sample.contrast_sample_idxs.tolist() == [9, 1, 2]


@pytest.mark.parametrize('kwargs, match', [
    (dict(neg_num=0), '`neg_num`'),
    (dict(percent=0.0), '`percent`'),
    (dict(sample_mode='hard'), '`sample_mode`'),
    (dict(num_classes=2), 'num_classes=2'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        wrapped(**kwargs)


def test_one_class_has_no_negatives():
    ds = CRDDataset(
        FakeRawClsDataset(num_samples=4, image_size=8, num_classes=1,
                          pipeline=PIPELINE), neg_num=2, percent=1.0)
    with pytest.raises(ValueError, match='same label'):
        ds[0]
