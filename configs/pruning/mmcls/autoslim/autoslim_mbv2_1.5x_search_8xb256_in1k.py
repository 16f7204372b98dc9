# AutoSlim stage 2: greedily slim the trained supernet (pass it with
# `--cfg-options load_from=...`) to 500, 300 and 200 MFLOPs. Writes
# subnet_flops-500M.yaml, subnet_flops-300M.yaml and subnet_flops-200M.yaml
# to the work dir.
_base_ = ['./autoslim_mbv2_1.5x_supernet_8xb256_in1k.py']

train_cfg = dict(
    _delete_=True,
    type='mmrazor.AutoSlimGreedySearchLoop',
    dataloader=_base_.val_dataloader,
    evaluator=_base_.val_evaluator,
    target_flops=(500., 300., 200.),
    max_channel_bins=11,
    estimator_cfg=dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 224, 224)),
    score_key='accuracy/top1',
    calibrate_sample_num=4096)

# The search trains nothing: no checkpoint.
default_hooks = dict(
    checkpoint=dict(
        _delete_=True, type='CheckpointHook', interval=-1, save_last=False))
