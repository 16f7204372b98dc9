# Copyright (c) OpenMMLab. All rights reserved.
"""A dataset wrapper that adds CRD's contrast indices to each sample."""
import copy
from typing import Any, Dict, List, Optional, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmrazor.registry import DATASETS

SAMPLE_MODES = ('exact', 'random')


@DATASETS.register_module()
class CRDDataset:
    """Wraps a classification dataset for contrastive representation
    distillation (Tian et al., "Contrastive Representation Distillation",
    ICLR 2020, Sec. 3.4).

    Every training sample gets ``contrast_sample_idxs``: ``neg_num + 1``
    dataset indices whose first entry is the positive (the sample itself in
    'exact' mode, a random sample of the same class in 'random' mode) and
    whose others are negatives drawn uniformly from the samples of the
    other classes (with replacement only when there are fewer than
    ``neg_num``). ``CRDLoss`` reads them, with ``sample_idx``, to pick its
    memory-bank rows. ``percent`` < 1 keeps a random share of each class's
    negatives, fixed when the wrapper initialises. In ``test_mode`` the
    samples pass through unchanged. Pack them with ``PackCRDClsInputs``.

    Args:
        dataset (BaseDataset | dict): The wrapped dataset (or its config);
            it must give ``gt_label`` for each sample.
        neg_num (int): Negatives per sample.
        percent (float): Share of the negatives kept, in (0, 1].
        lazy_init (bool): Defer reading the annotations to the first use.
            Defaults to False.
        num_classes (int, optional): Number of classes. Defaults to None
            (the largest label + 1).
        sample_mode (str): 'exact' or 'random'. Defaults to 'exact'.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, Dict],
                 neg_num: int,
                 percent: float,
                 lazy_init: bool = False,
                 num_classes: Optional[int] = None,
                 sample_mode: str = 'exact') -> None:
        name = type(self).__name__
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not isinstance(dataset, BaseDataset):
            raise TypeError(f'{name}: `dataset` must be a BaseDataset or its '
                            f'config dict, but got {type(dataset)}')
        if isinstance(neg_num, bool) or not isinstance(
                neg_num, int) or neg_num < 1:
            raise ValueError(
                f'{name}: `neg_num` must be an int >= 1, but got {neg_num!r}')
        if not 0 < percent <= 1:
            raise ValueError(
                f'{name}: `percent` must be in (0, 1], but got {percent!r}')
        if sample_mode not in SAMPLE_MODES:
            raise ValueError(f'{name}: `sample_mode` must be one of '
                             f'{list(SAMPLE_MODES)}, but got {sample_mode!r}')
        self.dataset = dataset
        self.neg_num = neg_num
        self.percent = percent
        self.num_classes = num_classes
        self.sample_mode = sample_mode
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's meta information."""
        return copy.deepcopy(self.dataset.metainfo)

    @property
    def test_mode(self) -> bool:
        """Whether the wrapped dataset is in test mode."""
        return bool(self.dataset.test_mode)

    def full_init(self) -> None:
        """Initialise the wrapped dataset and the per-class indices."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        if not self.test_mode:
            self._index_classes()
        self._fully_initialized = True

    def _labels(self) -> np.ndarray:
        if hasattr(self.dataset, 'get_gt_labels'):
            labels = self.dataset.get_gt_labels()
        else:
            labels = [
                self.dataset.get_data_info(i)['gt_label']
                for i in range(len(self.dataset))
            ]
        return np.asarray(labels, dtype=np.int64).reshape(-1)

    def _index_classes(self) -> None:
        self.gt_labels = self._labels()
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = int(self.gt_labels.max()) + 1
        if self.gt_labels.min() < 0 or self.gt_labels.max() >= num_classes:
            raise ValueError(
                f'CRDDataset: labels must lie in [0, num_classes='
                f'{num_classes}), got [{self.gt_labels.min()}, '
                f'{self.gt_labels.max()}]')
        index = np.arange(len(self.gt_labels))
        self.cls_positive: List[np.ndarray] = [
            index[self.gt_labels == c] for c in range(num_classes)
        ]
        self.cls_negative: List[np.ndarray] = [
            index[self.gt_labels != c] for c in range(num_classes)
        ]
        if self.percent < 1:
            self.cls_negative = [
                np.random.permutation(neg)[:int(len(neg) * self.percent)]
                for neg in self.cls_negative
            ]

    def contrast_indices(self, idx: int) -> np.ndarray:
        """``neg_num + 1`` indices: the positive, then the negatives."""
        label = self.gt_labels[idx]
        if self.sample_mode == 'exact':
            positive = idx
        else:
            positive = int(np.random.choice(self.cls_positive[label]))
        negatives = self.cls_negative[label]
        if len(negatives) == 0:
            raise ValueError('CRDDataset: every sample has the same label '
                             f'{label}; contrastive sampling needs negatives')
        negatives = np.random.choice(
            negatives, self.neg_num, replace=self.neg_num > len(negatives))
        return np.concatenate([[positive], negatives]).astype(np.int64)

    def get_data_info(self, idx: int) -> Dict:
        """The wrapped annotation, with ``contrast_sample_idxs`` when
        training."""
        self.full_init()
        info = self.dataset.get_data_info(idx)
        if not self.test_mode:
            info['contrast_sample_idxs'] = self.contrast_indices(idx)
        return info

    def prepare_data(self, idx: int) -> Any:
        """The sample after the wrapped dataset's pipeline."""
        return self.dataset.pipeline(self.get_data_info(idx))

    def __getitem__(self, idx: int) -> Any:
        self.full_init()
        attempts = 1 if self.test_mode else self.dataset.max_refetch + 1
        for _ in range(attempts):
            data = self.prepare_data(idx)
            if data is not None:
                return data
            if self.test_mode:
                break
            idx = self.dataset._rand_another()
        raise RuntimeError(
            f'CRDDataset: the pipeline returned None for sample {idx} '
            f'({attempts} attempts); check the data and the pipeline')

    def __len__(self) -> int:
        self.full_init()
        return len(self.dataset)
