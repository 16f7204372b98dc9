# Greedy slimming of the digits AutoSlim supernet (pass it with
# `--cfg-options load_from=...`) to three FLOPs targets, in MFLOPs at 32x32:
# the full network has about 2.17 MFLOPs.
_base_ = ['./autoslim_mbv2_supernet_digits.py']

train_cfg = dict(
    _delete_=True,
    type='mmrazor.AutoSlimGreedySearchLoop',
    dataloader=_base_.val_dataloader,
    evaluator=_base_.val_evaluator,
    target_flops=(1.6, 1.2, 0.8),
    estimator_cfg=dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 32, 32)),
    score_key='accuracy/top1',
    calibrate_sample_num=256)

default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=-1, save_last=False))
