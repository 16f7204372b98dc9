# Copyright (c) OpenMMLab. All rights reserved.
# SPOS on scikit-learn's digits (no download) with a backbone that lives
# outside the mmrazor package.
#
# Run from the repository root (see README.md in this folder):
#   PYTHONPATH=$PWD python tools/train.py \
#       examples/custom_backbone/tiny_spos_config.py
_base_ = [
    'mmcls::_base_/default_runtime.py',
    'mmrazor::_base_/datasets/digits.py',
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
    data_preprocessor=_base_.preprocess_cfg,
    backbone=dict(
        type='mmrazor.TinySearchableNet',
        stem_channels=16,
        # The blocks of a layer share one choice (an alias per layer):
        # 4^3 = 64 subnets, a space that trains in 20 epochs on 1437
        # images. Drop the aliases to search per block (4^6 subnets) with a
        # longer schedule.
        arch_setting=[
            # out_channels, num_blocks, stride, mutable_cfg
            [32, 2, 2, dict(_BLOCK, alias='layer0')],
            [64, 2, 2, dict(_BLOCK, alias='layer1')],
            [128, 2, 2, dict(_BLOCK, alias='layer2')],
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

# Each step trains one path, so the other candidates get no gradient.
find_unused_parameters = True

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
# A supernet has no single accuracy: validate two random subnets (the same
# two every time), each after recalibrating BN on 256 training images. A
# plain ValLoop would validate whichever path the last step sampled, with
# BN statistics mixed over all paths.
val_cfg = dict(
    type='mmrazor.SubnetValLoop',
    subnets=('random', ),
    num_random=2,
    calibrate_sample_num=256)
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=1))
randomness = dict(seed=0)
