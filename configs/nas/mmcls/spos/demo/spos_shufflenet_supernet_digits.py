# SPOS supernet on the digits dataset: a CPU demo of one-shot NAS. 20 epochs
# took 93 s on 2 cores shared with other jobs (load about 2); set
# OMP_WAIT_POLICY=PASSIVE on shared machines, or epochs run many times slower.
_base_ = [
    'mmcls::_base_/default_runtime.py',
    '../../../../_base_/datasets/digits.py',
    '../../../../_base_/nas_backbones/spos_shufflenet_supernet.py',
]

max_epochs = 20

# The SPOS search space (the same four candidates per block) on a net sized
# for 32x32 inputs and CPUs: three layers of 2, 2 and 4 blocks at widen 0.5,
# about as fast as mmcls's ShuffleNetV2 at widen 0.5. SearchableShuffleNetV2
# has a stride-2 stem and a stride-2 first block per layer (no max-pool), so
# the layers run at 8x8, 4x4 and 2x2. A fourth layer would run at 1x1, where
# the 3x3, 5x5 and 7x7 kernels all reduce to their centre tap, and (with the
# aliases below) its supernet stayed below 35% on random paths after 20
# epochs. 64x64 inputs would separate the kernels better but cost 2-3x per
# epoch.
#
# All blocks of a layer share one choice (an alias per layer): 4^3 = 64
# subnets. With one choice per block (4^8 = 65536 subnets) the supernet does
# not learn in 20 epochs on 1437 images: random paths reached 43-50% after BN
# recalibration (82% after 40 epochs, 95% after 80), against 85-88% with the
# alias. Drop the aliases to search per block, with a longer schedule.
arch_setting = [
    # channel, num_blocks, mutable_cfg
    [64, 2, dict(_base_._STAGE_MUTABLE, alias='layer0')],
    [160, 2, dict(_base_._STAGE_MUTABLE, alias='layer1')],
    [320, 4, dict(_base_._STAGE_MUTABLE, alias='layer2')],
]
nas_backbone = dict(
    _scope_='mmrazor',
    type='SearchableShuffleNetV2',
    widen_factor=0.5,
    arch_setting=arch_setting,
    # Three searchable layers, then the last 1x1 conv (1024 channels).
    out_indices=(3, ))

supernet = dict(
    _scope_='mmcls',
    type='ImageClassifier',
    data_preprocessor=_base_.preprocess_cfg,
    backbone=nas_backbone,
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=1024,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, ),
    ),
)

model = dict(
    type='mmrazor.SPOS',
    architecture=supernet,
    mutator=dict(type='mmrazor.NasMutator'),
)

# Each step trains one path: the other candidates get no gradient.
find_unused_parameters = True

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.05, momentum=0.9, nesterov=True,
        weight_decay=5e-4))

# One epoch of linear warm-up, then cosine decay to 0, per iteration. Both
# follow max_epochs; when overriding train_cfg.max_epochs from the command
# line, override the cosine's end and T_max too.
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

# Validation runs whichever path was sampled last, with BN statistics mixed
# over paths: a rough progress signal only, so it runs every 5 epochs.
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
# Validating "the current path" of a supernet says little (its BN
# statistics mix all paths): validate two fixed random subnets instead, each
# after recalibrating BN on 640 training images.
val_cfg = dict(
    type='mmrazor.SubnetValLoop',
    subnets=('random', ),
    num_random=2,
    calibrate_sample_num=640)
test_cfg = dict()

# 23 iterations per epoch at batch 64.
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook',
        interval=5,
        max_keep_ckpts=1,
        save_last=True),
)

# A peer that hangs (or dies) fails the others after 5 minutes, not 30.
env_cfg = dict(dist_cfg=dict(backend='gloo', timeout=300))
randomness = dict(seed=0)
