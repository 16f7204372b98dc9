# Greedy slimming of the digits AutoSlim supernet (pass it with
# `--cfg-options load_from=...`) to three FLOPs targets, in MFLOPs at 32x32:
# the full network has 2.19 MFLOPs. Each step scores every unit shrunk by
# one choice (25 units): candidates are scored on the first 180 val images
# after recalibrating BN on 96 training images, which keeps a step to a few
# seconds on a CPU (tools/demo_autoslim.py runs all three AutoSlim stages
# in under 10 minutes).
_base_ = ['./autoslim_mbv2_supernet_digits.py']

search_dataloader = dict(
    batch_size=90,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=_base_.dataset_type,
        split='val',
        image_size=_base_.image_size,
        pipeline=_base_.test_pipeline,
        test_mode=True,
        indices=180),
    sampler=dict(type='DefaultSampler', shuffle=False),
)

train_cfg = dict(
    _delete_=True,
    type='mmrazor.AutoSlimGreedySearchLoop',
    dataloader=search_dataloader,
    evaluator=_base_.val_evaluator,
    target_flops=(1.6, 1.2, 0.8),
    estimator_cfg=dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 32, 32)),
    score_key='accuracy/top1',
    calibrate_sample_num=96)

default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=-1, save_last=False))
