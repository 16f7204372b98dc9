# scikit-learn's handwritten digits (mmrazor.DigitsDataset): 1437 train / 360
# val images (stratified split, seed 0), upsampled from 8x8 to 32x32 RGB.
# Small enough for CPU demos; no download.
dataset_type = 'mmrazor.DigitsDataset'
image_size = 32

# The train split's mean and std (0..255 scale) at image size 32, as
# mmrazor.datasets.digits_mean_std(32) gives them (the three channels are
# copies of the gray image). Recompute them for another image_size.
preprocess_cfg = dict(
    num_classes=10,
    mean=[77.87, 77.87, 77.87],
    std=[82.53, 82.53, 82.53],
    to_rgb=False,
)

# Scopes are explicit: the pipeline is built inside the mmrazor dataset.
train_pipeline = [
    # A random shift of up to 2 px in each direction (zero padding).
    dict(type='mmcls.RandomCrop', crop_size=image_size, padding=2),
    dict(type='mmcls.PackClsInputs'),
]
test_pipeline = [dict(type='mmcls.PackClsInputs')]

# The data is in memory and tiny: worker processes cost more than they save.
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type,
        split='train',
        image_size=image_size,
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type,
        split='val',
        image_size=image_size,
        pipeline=test_pipeline,
        test_mode=True),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmcls.Accuracy', topk=(1, ))

# There is no separate test split: testing runs on the val split.
test_dataloader = val_dataloader
test_evaluator = val_evaluator
