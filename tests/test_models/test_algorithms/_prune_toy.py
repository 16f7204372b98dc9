# Copyright (c) OpenMMLab. All rights reserved.
"""A tiny mmcls classifier and batches for the pruning algorithm tests."""
import torch
from mmcls.structures import ClsDataSample
from mmengine.optim import OptimWrapper

CONV1 = 'backbone.conv1.conv_(0, 8)_8'
CONV2 = 'backbone.conv2.conv_(0, 16)_16'
PARSE_CFG = dict(type='ChannelAnalyzer', demo_input=(1, 3, 16, 16))
INPUT_SHAPE = (1, 3, 16, 16)


def tiny_classifier() -> dict:
    """SimpleConvNet(8, 16) + pooling + a 4-class head: two units, CONV1
    (read by conv2) and CONV2 (read by the linear head)."""
    return dict(
        _scope_='mmcls',
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=4),
        backbone=dict(type='mmrazor.SimpleConvNet', channels=(8, 16)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=4, in_channels=16))


def batch(n: int = 4, seed: int = 0) -> dict:
    """``n`` random 16x16 images with labels, as a dataloader yields."""
    gen = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[
            torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8,
                          generator=gen) for _ in range(n)
        ],
        data_samples=[ClsDataSample().set_gt_label(i % 4) for i in range(n)])


def optim_wrapper(model: torch.nn.Module, lr: float = 0.01) -> OptimWrapper:
    """Plain SGD."""
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr))
