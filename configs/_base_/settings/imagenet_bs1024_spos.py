# ImageNet data and schedule of SPOS (8 GPUs x 128 images).
# mmcls types are named with their scope: this file is also a base of
# configs outside this package (`_base_ = ['mmrazor::_base_/settings/...']`),
# whose mmrazor scope does not hold them.
dataset_type = 'mmcls.ImageNet'
preprocess_cfg = dict(
    num_classes=1000,
    # RGB format normalization parameters
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    # convert image from BGR to RGB
    to_rgb=True,
)

train_pipeline = [
    dict(type='mmcls.LoadImageFromFile'),
    dict(type='mmcls.RandomResizedCrop', scale=224),
    dict(
        type='mmcls.ColorJitter', brightness=0.4, contrast=0.4,
        saturation=0.4),
    dict(type='mmcls.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmcls.PackClsInputs'),
]

test_pipeline = [
    dict(type='mmcls.LoadImageFromFile'),
    dict(type='mmcls.ResizeEdge', scale=256, edge='short', backend='cv2'),
    dict(type='mmcls.CenterCrop', crop_size=224),
    dict(type='mmcls.PackClsInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    dataset=dict(
        type=dataset_type,
        data_root='data/imagenet',
        ann_file='meta/train.txt',
        data_prefix='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
    persistent_workers=True,
)

val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    dataset=dict(
        type=dataset_type,
        data_root='data/imagenet',
        ann_file='meta/val.txt',
        data_prefix='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
    persistent_workers=True,
)
val_evaluator = dict(type='mmcls.Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator

# optimizer: no weight decay on biases, norms and depthwise convs
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=4e-5),
    paramwise_cfg=dict(
        bias_decay_mult=0.0, norm_decay_mult=0.0, dwconv_decay_mult=0.0),
    clip_grad=None)

# learning policy: linear decay to 0 over the whole run
param_scheduler = [
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=True,
        end=300,
        convert_to_iter_based=True)
]

# train, val, test setting
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# Scale the learning rate with the total batch size (8 x 128).
auto_scale_lr = dict(base_batch_size=1024)
