# Copyright (c) OpenMMLab. All rights reserved.
"""Random image-classification data for smoke runs of full-size configs.

ImageNet-scale configs are checked by building them and running a couple of
iterations on this data (:func:`use_fake_data`), never by training them.
"""
import copy
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmcls.structures import ClsDataSample
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from torch.utils.data import Dataset

from mmrazor.registry import DATASETS


@DATASETS.register_module()
class FakeClsDataset(Dataset):
    """Random uint8 images with random labels, already packed as mmcls packs.

    Each item is ``dict(inputs=uint8 tensor (3, H, W), data_samples=
    ClsDataSample)``, what ``PackClsInputs`` gives, so it feeds mmcls data
    preprocessors and models directly. Items are deterministic per index.

    Args:
        num_samples (int): Length of the dataset. Defaults to 16.
        image_size (int): Height and width of the images. Defaults to 224.
        num_classes (int): Labels are drawn from ``range(num_classes)``.
            Defaults to 1000.
        seed (int): Seed of the generator. Defaults to 0.
    """

    def __init__(self,
                 num_samples: int = 16,
                 image_size: int = 224,
                 num_classes: int = 1000,
                 seed: int = 0) -> None:
        self.num_samples = num_samples
        self.image_size = image_size
        self.num_classes = num_classes
        self.seed = seed
        self.metainfo = dict(classes=[str(i) for i in range(num_classes)])

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int) -> Dict:
        gen = torch.Generator().manual_seed(self.seed * 100003 + index)
        size = (3, self.image_size, self.image_size)
        image = torch.randint(0, 256, size, dtype=torch.uint8, generator=gen)
        label = int(torch.randint(0, self.num_classes, (1, ), generator=gen))
        sample = ClsDataSample().set_gt_label(label)
        return dict(inputs=image, data_samples=sample)


@DATASETS.register_module()
class FakeRawClsDataset(BaseDataset):
    """Random images as a dataset before its pipeline: each sample is
    ``dict(img=uint8 (H, W, 3) array, gt_label=int, ...)``, for wrappers
    and transforms that need raw samples (e.g. ``CRDDataset``).

    Args:
        num_samples (int): Length of the dataset. Defaults to 16.
        image_size (int): Height and width of the images. Defaults to 32.
        num_classes (int): Labels cycle through ``range(num_classes)``.
            Defaults to 10.
        seed (int): Seed of the images. Defaults to 0.
        pipeline (Sequence): Transforms. Defaults to ().
        test_mode (bool): As in mmengine's ``BaseDataset``.
    """

    def __init__(self,
                 num_samples: int = 16,
                 image_size: int = 32,
                 num_classes: int = 10,
                 seed: int = 0,
                 pipeline: Sequence = (),
                 test_mode: bool = False) -> None:
        self.num_samples = num_samples
        self.image_size = image_size
        self.num_classes = num_classes
        self.seed = seed
        super().__init__(
            ann_file='',
            metainfo=dict(classes=[str(i) for i in range(num_classes)]),
            pipeline=pipeline,
            test_mode=test_mode,
            serialize_data=False)

    def load_data_list(self) -> List[Dict]:
        gen = np.random.RandomState(self.seed)
        size = (self.image_size, self.image_size, 3)
        return [
            dict(img=gen.randint(0, 256, size, dtype=np.uint8),
                 gt_label=i % self.num_classes, img_shape=size[:2],
                 ori_shape=size[:2]) for i in range(self.num_samples)
        ]

    def get_gt_labels(self) -> np.ndarray:
        """The labels of all samples."""
        return np.array([d['gt_label'] for d in self.data_list])


def _fake_raw_wrapper(dataset: Dict, num_samples: int, image_size: int,
                      num_classes: int) -> Optional[Dict]:
    """A copy of a ``CRDDataset`` config around fake raw samples (the
    wrapped dataset's pipeline kept), or None for other datasets."""
    if not isinstance(dataset, dict) or not str(dataset.get(
            'type', '')).endswith('CRDDataset'):
        return None
    inner = dataset.get('dataset') or {}
    return dict(
        copy.deepcopy(dataset),
        dataset=dict(
            type='mmrazor.FakeRawClsDataset',
            num_samples=num_samples,
            image_size=image_size,
            num_classes=num_classes,
            pipeline=copy.deepcopy(inner.get('pipeline', [])),
            test_mode=bool(inner.get('test_mode', False))))


def use_fake_data(cfg: Union[Config, str],
                  work_dir: str,
                  num_samples: int = 8,
                  image_size: int = 224,
                  batch_size: int = 2,
                  max_iters: int = 2,
                  num_classes: int = 1000) -> Config:
    """Return a copy of ``cfg`` that trains ``max_iters`` on fake data.

    The train, val and test dataloaders read :class:`FakeClsDataset`
    (``num_workers=0``; a ``CRDDataset`` is kept, around a
    :class:`FakeRawClsDataset` with its pipeline), training is
    iteration-based for ``max_iters`` iterations with one validation at the
    end, logging and checkpointing happen every iteration, and the run
    writes into ``work_dir``.

    Args:
        cfg (Config | str): A config or its path.
        work_dir (str): The work dir of the run.
        num_samples (int): Images per fake dataset. Defaults to 8.
        image_size (int): Image size. Defaults to 224.
        batch_size (int): Batch size. Defaults to 2.
        max_iters (int): Training iterations. Defaults to 2.
        num_classes (int): Classes of the fake labels. Defaults to 1000.

    Returns:
        Config: The modified copy.
    """
    cfg = Config.fromfile(cfg) if isinstance(cfg, str) else copy.deepcopy(cfg)
    dataset = dict(
        type='mmrazor.FakeClsDataset',
        num_samples=num_samples,
        image_size=image_size,
        num_classes=num_classes)
    for split in ('train', 'val', 'test'):
        key = f'{split}_dataloader'
        if cfg.get(key) is None:
            continue
        raw = _fake_raw_wrapper(cfg[key].get('dataset'), num_samples,
                                image_size, num_classes)
        cfg[key] = dict(
            batch_size=batch_size,
            num_workers=0,
            persistent_workers=False,
            dataset=raw or dataset,
            sampler=dict(type='DefaultSampler', shuffle=split == 'train'))
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
    cfg.log_processor = dict(by_epoch=False)
    cfg.param_scheduler = []
    cfg.auto_scale_lr = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=max_iters, by_epoch=False)
    cfg.work_dir = work_dir
    return cfg
