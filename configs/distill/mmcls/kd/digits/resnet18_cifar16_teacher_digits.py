# Teacher of the digits distillation demo (tools/demo_distill.py): mmcls's
# ResNet_CIFAR-18 at a quarter of its width (stem and first stage 16
# channels, last stage 128): 0.70 M params, 35 M MACs at 32x32, 98.1%
# val top-1 after 10 epochs (seed 0), 100 s on 2 shared cores. The full
# width (64) costs 70-140 s per epoch there. Set OMP_WAIT_POLICY=PASSIVE on
# shared machines, or epochs run many times slower.
_base_ = [
    'mmcls::_base_/default_runtime.py',
    '../../../../_base_/datasets/digits.py',
]

max_epochs = 10

model = dict(
    _scope_='mmcls',
    type='ImageClassifier',
    data_preprocessor=_base_.preprocess_cfg,
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        # ResNet's width is two arguments: the stem's output channels and
        # the first stage's (each later stage doubles it).
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, ),
        # PyTorch's default init of the linear layer: mmcls's N(0, 0.01)
        # starves the backbone of gradients for the first epochs, which a
        # 10-epoch schedule does not recover from.
        init_cfg=None,
    ),
)

# SGD with nesterov momentum, peak lr 0.1 after a warm-up epoch.
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, nesterov=True,
        weight_decay=5e-4))

# One epoch of linear warm-up, then cosine decay to 0, per iteration. Both
# follow max_epochs; when overriding train_cfg.max_epochs from the command
# line, override the cosine's end and T_max too (tools/demo_distill.py does).
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
        T_max=max_epochs - 1,
        eta_min=0.0,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True),
]

# 360 val images take about a second: validate every epoch.
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# 23 iterations per epoch at batch 64. Only the last checkpoint is kept
# (epoch_<max_epochs>.pth): the demo distills from it.
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=1, save_last=True),
)

# A peer that hangs (or dies) fails the others after 5 minutes, not 30.
env_cfg = dict(dist_cfg=dict(backend='gloo', timeout=300))
randomness = dict(seed=0)
