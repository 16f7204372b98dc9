# Copyright (c) OpenMMLab. All rights reserved.
# SPOS on CIFAR-10 with a backbone that lives outside the mmrazor package.
#
# Run from the repository root (see README.md in this folder):
#   PYTHONPATH=$PWD python tools/train.py \
#       examples/custom_backbone/tiny_spos_config.py
_base_ = [
    'mmcls::_base_/datasets/cifar10_bs16.py',
    'mmcls::_base_/default_runtime.py',
]

# The only place the example's code is imported: registering
# TinySearchableNet and TinySepConv into mmrazor's MODELS registry.
custom_imports = dict(
    imports=['examples.custom_backbone.my_backbones'],
    allow_failed_imports=False)

# One searchable block: SPOS picks one of these candidates per block and
# step. The backbone adds in_channels, out_channels and stride.
_BLOCK = dict(
    _scope_='mmrazor',
    type='OneShotMutableOP',
    candidates=dict(
        shuffle_3x3=dict(type='ShuffleBlock', kernel_size=3),
        shuffle_xception=dict(type='ShuffleXception'),
        sep_conv_5x5=dict(type='TinySepConv', kernel_size=5),
        skip=dict(type='Identity')))

supernet = dict(
    type='ImageClassifier',  # an mmcls model: default scope 'mmcls'
    # Normalisation belongs to the classifier, so that a subnet exported
    # from it keeps it.
    data_preprocessor=_base_.data_preprocessor,
    backbone=dict(
        type='mmrazor.TinySearchableNet',
        stem_channels=16,
        arch_setting=[
            # out_channels, num_blocks, stride, mutable_cfg
            [32, 2, 2, _BLOCK],
            [64, 2, 2, _BLOCK],
            [128, 2, 2, _BLOCK],
        ]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))

model = dict(
    type='mmrazor.SPOS',
    architecture=supernet,
    mutator=dict(type='mmrazor.NasMutator'))

# The runner would hand a top-level `data_preprocessor` (set by the CIFAR-10
# base) to the outermost model, SPOS; the classifier already holds it.
data_preprocessor = None

# Each step trains one path, so the other candidates get no gradient.
find_unused_parameters = True

train_dataloader = dict(batch_size=64, num_workers=2)
val_dataloader = dict(batch_size=256, num_workers=2)
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.05, momentum=0.9, nesterov=True,
        weight_decay=5e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=20,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=50))
