# AutoSlim stage 3 on digits: retrain a few widths of the digits MobileNetV2
# from scratch as one slimmable network (shared weights, a batch norm per
# width). tools/demo_autoslim.py trains it twice: on the three subnets the
# greedy search found, then on uniform widths with no more FLOPs each.
_base_ = ['./autoslim_mbv2_supernet_digits.py']

retrain_epochs = 8

# Replace with the files the search wrote (subnet_flops-*.yaml), or give
# subnets as dicts in the same units format.
channel_cfg_paths = [
    'subnet_flops-1.6M.yaml',
    'subnet_flops-1.2M.yaml',
    'subnet_flops-0.8M.yaml',
]

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='SlimmableNetwork',
    architecture=_base_.supernet,
    channel_cfg_paths=channel_cfg_paths,
    mutator=dict(
        type='SlimmableChannelMutator',
        channel_unit_cfg=dict(type='SlimmableChannelUnit'),
        parse_cfg=dict(
            type='ChannelAnalyzer',
            demo_input=(1, 3, 32, 32),
            tracer_type='BackwardTracer')))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=retrain_epochs - 1,
        eta_min=0.0,
        by_epoch=True,
        begin=1,
        end=retrain_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=retrain_epochs, val_interval=5)
# Every subnet, metrics prefixed subnet_{i}. (its own batch norms: no
# recalibration).
val_cfg = dict(_delete_=True, type='mmrazor.SlimmableValLoop')
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', interval=-1, max_keep_ckpts=1,
        save_last=True))
