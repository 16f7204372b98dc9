# Copyright (c) OpenMMLab. All rights reserved.
"""scikit-learn's handwritten digits as a tiny image-classification dataset.

It ships inside scikit-learn (no download), and a small ShuffleNetV2 trains on
it in seconds per epoch on a CPU, which makes it the data of mmrazor's CPU
demos.
"""
import math
import numbers
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import BaseDataset

from mmrazor.registry import DATASETS

_SPLITS = ('train', 'val')
_NUM_CLASSES = 10
_NUM_IMAGES = 1797
_MIN_IMAGE_SIZE = 8  # the native size of the digits


def _load_digits() -> Tuple[np.ndarray, np.ndarray]:
    """Return the 1797 digits as ``(images (N, 8, 8) in 0..16, labels)``."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            'DigitsDataset needs scikit-learn, which holds the digits: '
            '`pip install scikit-learn` (it is listed in '
            'requirements/optional.txt)') from e
    digits = load_digits()
    return digits.images, digits.target


def _check_args(split: str, val_ratio: float, image_size: int) -> None:
    """Raise ValueError naming the first invalid argument."""
    if split not in _SPLITS:
        raise ValueError(
            f'split must be one of {_SPLITS}, but received {split!r}')
    if isinstance(image_size, bool) or not isinstance(
            image_size, int) or image_size < _MIN_IMAGE_SIZE:
        raise ValueError(
            f'image_size must be an int >= {_MIN_IMAGE_SIZE} (the digits are '
            f'8x8), but received {image_size!r}')
    if isinstance(val_ratio, bool) or not isinstance(val_ratio, numbers.Real):
        raise ValueError(
            f'val_ratio must be a float in (0, 1), but received {val_ratio!r}')
    # Stratification needs one image per class in each split.
    num_val = math.ceil(_NUM_IMAGES * val_ratio) if 0 < val_ratio < 1 else 0
    if not _NUM_CLASSES <= num_val <= _NUM_IMAGES - _NUM_CLASSES:
        low = (_NUM_CLASSES - 1) / _NUM_IMAGES
        high = 1 - _NUM_CLASSES / _NUM_IMAGES
        raise ValueError(
            f'val_ratio must leave at least {_NUM_CLASSES} images (one per '
            f'class) in each split, i.e. lie in ({low:.4f}, {high:.4f}], '
            f'but received {val_ratio!r}')


def _split_indices(labels: np.ndarray, split: str, val_ratio: float,
                   seed: int) -> np.ndarray:
    """Sorted indices of ``split`` in a stratified train/val split."""
    from sklearn.model_selection import train_test_split
    train, val = train_test_split(
        np.arange(len(labels)),
        test_size=val_ratio,
        stratify=labels,
        random_state=seed)
    return np.sort(train if split == 'train' else val)


def _to_images(digits: np.ndarray, image_size: int) -> np.ndarray:
    """Scale 0..16 digits to 0..255, resize bilinearly, make them uint8 RGB.

    Args:
        digits (np.ndarray): Images of shape (N, 8, 8) with values in 0..16.
        image_size (int): Height and width of the result.

    Returns:
        np.ndarray: uint8 images of shape (N, image_size, image_size, 3).
    """
    images = torch.from_numpy(digits).float()[:, None] * (255 / 16)
    if image_size != digits.shape[-1]:
        images = F.interpolate(
            images,
            size=(image_size, image_size),
            mode='bilinear',
            align_corners=False)
    images = images.round().clamp(0, 255).to(torch.uint8)
    return images[:, 0, :, :, None].repeat(1, 1, 1, 3).numpy()


def digits_mean_std(image_size: int = 32,
                    val_ratio: float = 0.2,
                    seed: int = 0) -> Tuple[List[float], List[float]]:
    """Per-channel mean and std (0..255 scale) of a digits train split.

    The three channels are copies, so the three values are equal.

    Args:
        image_size (int): Image size. Defaults to 32.
        val_ratio (float): Share of the val split. Defaults to 0.2.
        seed (int): Seed of the split. Defaults to 0.

    Returns:
        tuple[list[float], list[float]]: ``(mean, std)``, three values each,
        for ``ClsDataPreprocessor(mean=..., std=...)``.
    """
    _check_args('train', val_ratio, image_size)
    digits, labels = _load_digits()
    index = _split_indices(labels, 'train', val_ratio, seed)
    images = _to_images(digits[index], image_size)[..., 0].astype(np.float64)
    mean, std = float(images.mean()), float(images.std())
    return [mean] * 3, [std] * 3


@DATASETS.register_module()
class DigitsDataset(BaseDataset):
    """scikit-learn's 8x8 handwritten digits, split, upsampled and in RGB.

    The 1797 images of ``sklearn.datasets.load_digits`` (10 classes) are
    split into train and val with a deterministic stratified split (1437 /
    360 images by default), scaled from 0..16 to 0..255, resized to
    ``image_size`` with bilinear interpolation and repeated to 3 channels.

    Each data info is ``dict(img=uint8 array (H, W, 3), gt_label=int,
    source_idx=int, sample_idx=int)``, ``source_idx`` being the image's index
    in ``load_digits``; the ``pipeline`` turns it into the item, by default
    ``PackClsInputs``, which gives ``dict(inputs=uint8 tensor (3, H, W),
    data_samples=ClsDataSample)`` for mmcls's ``ClsDataPreprocessor``,
    models and ``Accuracy``. mmcls transforms such as ``RandomCrop`` with
    ``padding`` work on the data info before the packing.

    ``MEAN`` and ``STD`` are the train split's per-channel statistics at
    image size 32 (see :func:`digits_mean_std` for other settings), for the
    data preprocessor.

    Args:
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        val_ratio (float): Share of the images in the val split. Defaults
            to 0.2.
        seed (int): Seed of the split. Defaults to 0.
        image_size (int): Height and width of the images, >= 8. Defaults to
            32.
        pipeline (list[dict | callable], optional): Transforms applied to
            each data info. Defaults to None: ``[dict(type=
            'mmcls.PackClsInputs')]``.
        indices (int | Sequence[int], optional): Keep only these items (an
            int keeps the first ones), as in mmengine's ``BaseDataset``.
            Defaults to None: all.
        test_mode (bool): Whether the dataset is used for evaluation.
            Defaults to False.
        lazy_init (bool): Whether to load the data on first use only.
            Defaults to False.

    Raises:
        ValueError: If ``split``, ``val_ratio`` or ``image_size`` is invalid.
        ImportError: If scikit-learn is not installed.

    Examples:
        >>> dataset = DigitsDataset(split='val')
        >>> len(dataset)
        360
        >>> item = dataset[0]
        >>> item['inputs'].shape, item['data_samples'].gt_label.label
        (torch.Size([3, 32, 32]), tensor([1]))
    """

    METAINFO = dict(classes=tuple(str(i) for i in range(_NUM_CLASSES)))
    MEAN = (77.87, 77.87, 77.87)
    STD = (82.53, 82.53, 82.53)

    def __init__(self,
                 split: str = 'train',
                 val_ratio: float = 0.2,
                 seed: int = 0,
                 image_size: int = 32,
                 pipeline: Optional[List[Union[Dict, Callable]]] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 test_mode: bool = False,
                 lazy_init: bool = False) -> None:
        _check_args(split, val_ratio, image_size)
        self.split = split
        self.val_ratio = val_ratio
        self.seed = seed
        self.image_size = image_size
        if pipeline is None:
            pipeline = [dict(type='mmcls.PackClsInputs')]
        super().__init__(
            pipeline=pipeline,
            indices=indices,
            test_mode=test_mode,
            lazy_init=lazy_init)

    def load_data_list(self) -> List[Dict]:
        """Load the digits, split them and make the images."""
        digits, labels = _load_digits()
        index = _split_indices(labels, self.split, self.val_ratio, self.seed)
        images = _to_images(digits[index], self.image_size)
        return [
            dict(img=image, gt_label=int(labels[i]), source_idx=int(i))
            for image, i in zip(images, index)
        ]
