# ImageNet data and schedule of DMCP supernet training (the original
# MMRazor's): 32 GPUs x 64 images, 100 epochs; SGD for the weights and Adam
# for the architecture parameters (SeparateOptimWrapperConstructor), a
# 10-epoch linear warm-up, then cosine decay to 0.08.
dataset_type = 'mmcls.ImageNet'

max_search_epochs = 100
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.5,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_search_epochs,
        eta_min=0.08,
        by_epoch=True,
        begin=10,
        end=max_search_epochs,
        convert_to_iter_based=True),
]

# no weight decay on norms and biases
paramwise_cfg = dict(norm_decay_mult=0.0, bias_decay_mult=0.0)
optim_wrapper = dict(
    constructor='mmrazor.SeparateOptimWrapperConstructor',
    architecture=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=3e-4),
        paramwise_cfg=paramwise_cfg),
    mutator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=0.5, weight_decay=1e-3)))

data_preprocessor = dict(
    type='mmcls.ClsDataPreprocessor',
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
        type='mmcls.ColorJitter', brightness=0.2, contrast=0.2,
        saturation=0.2),
    dict(type='mmcls.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmcls.PackClsInputs'),
]
test_pipeline = [
    dict(type='mmcls.LoadImageFromFile'),
    dict(type='mmcls.ResizeEdge', scale=256, edge='short'),
    dict(type='mmcls.CenterCrop', crop_size=224),
    dict(type='mmcls.PackClsInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
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
    batch_size=64,
    num_workers=4,
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

train_cfg = dict(by_epoch=True, max_epochs=max_search_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# at the end: subnets sampled near target_flops, for retraining
custom_hooks = [dict(type='mmrazor.DMCPSubnetHook')]
