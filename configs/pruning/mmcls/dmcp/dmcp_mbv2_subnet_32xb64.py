# Retrain a subnet found by dmcp_mbv2_supernet_32xb64.py from scratch,
# 100 epochs. fix_subnet is a {unit name: channels} structure as
# DMCPSubnetHook writes it (work_dirs/dmcp_mbv2_supernet_32xb64/
# model_sample/expected_ch.json or subnet_<i>.json): pass yours with
# --cfg-options model.fix_subnet=PATH. The original MMRazor named its model
# zoo's structure, DMCP_MBV2_100M.json, which it does not ship.
_base_ = ['dmcp_mbv2_supernet_32xb64.py']

paramwise_cfg = dict(norm_decay_mult=0.0, bias_decay_mult=0.0)
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(
        type='SGD', lr=0.8, momentum=0.9, weight_decay=0.00004, nesterov=True),
    paramwise_cfg=paramwise_cfg)

max_epochs = 100
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.25,
        by_epoch=True,
        begin=0,
        end=3,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=1e-5,
        by_epoch=True,
        begin=3,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)

custom_hooks = []

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.supernet,
    fix_subnet='configs/pruning/mmcls/dmcp/DMCP_MBV2_100M.json',
    mode='mutator')

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5))

model_wrapper_cfg = None

randomness = dict(seed=4872, diff_rank_seed=True)
