# AutoSlim on the digits dataset: a CPU demo of one-shot channel search.
# MobileNetV2 at widen 0.5 on 32x32 images becomes a slimmable supernet whose
# channel units (found by the ChannelAnalyzer) take 1/4 ... 4/4 of their
# channels; each step trains the largest, two random and the smallest widths.
_base_ = [
    'mmcls::_base_/default_runtime.py',
    '../../../../_base_/datasets/digits.py',
]

max_epochs = 10

supernet = dict(
    _scope_='mmcls',
    type='ImageClassifier',
    data_preprocessor=_base_.preprocess_cfg,
    backbone=dict(type='MobileNetV2', widen_factor=0.5),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )),
)

model = dict(
    _scope_='mmrazor',
    type='AutoSlim',
    num_samples=2,
    architecture=supernet,
    distiller=dict(
        type='ConfigurableDistiller',
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=1, loss_weight=1)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(recorder='fc', from_student=True),
                preds_T=dict(recorder='fc', from_student=False)))),
    mutator=dict(
        type='OneShotChannelMutator',
        channel_unit_cfg=dict(
            type='OneShotMutableChannelUnit',
            default_args=dict(
                candidate_choices=[0.25, 0.5, 0.75, 1.0],
                choice_mode='ratio',
                divisor=4)),
        parse_cfg=dict(
            type='ChannelAnalyzer',
            demo_input=(1, 3, 32, 32),
            tracer_type='BackwardTracer')))

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.02, momentum=0.9, nesterov=True,
        weight_decay=5e-4))
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

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
# The largest and the smallest widths, BN recalibrated on 640 images.
val_cfg = dict(type='mmrazor.AutoSlimValLoop', calibrate_sample_num=640)
test_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook', interval=5, max_keep_ckpts=1,
        save_last=True),
)
# A peer that hangs (or dies) fails the others after 5 minutes, not 30.
env_cfg = dict(dist_cfg=dict(backend='gloo', timeout=300))
randomness = dict(seed=0)
