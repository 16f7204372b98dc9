# Once-for-All supernet training of the OFA MobileNetV3 space (Cai et al.,
# "Once-for-All: Train One Network and Specialize it for Efficient
# Deployment", ICLR 2020). Each step follows BigNAS's sandwich rule (the
# largest, 2 random and the smallest subnet, in-place distillation from the
# largest), inside OFA's progressive shrinking schedule (the hook below):
# the full network first, then elastic kernel sizes, then depths, then
# expand ratios.
_base_ = [
    'mmcls::_base_/default_runtime.py',
    '../../../_base_/settings/imagenet_bs2048_ofa.py',
    '../../../_base_/nas_backbones/ofa_mobilenetv3_supernet.py',
]

supernet = dict(
    _scope_='mmrazor',
    type='SearchableImageClassifier',
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.nas_backbone,
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(
        type='DynamicLinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(
            type='mmcls.LabelSmoothLoss',
            num_classes=1000,
            label_smooth_val=0.1,
            mode='original',
            loss_weight=1.0),
        topk=(1, 5)),
    input_resizer_cfg=_base_.input_resizer_cfg,
    connect_head=dict(connect_with_backbone='backbone.last_mutable_channels'),
)

model = dict(
    _scope_='mmrazor',
    type='BigNAS',
    drop_path_rate=0.2,
    backbone_dropout_stages=[6, 7],
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
    mutator=dict(type='mmrazor.NasMutator'))

# Progressive shrinking: the paper's phases (full network 180 epochs,
# elastic kernel 120, depth 25 + 120, expand ratio 25 + 120) scaled to the
# 360 epochs of this schedule. Widths and the input size, not elastic in
# OFA's own MobileNetV3 but searchable in this space, are sampled in every
# phase.
custom_hooks = [
    dict(
        type='mmrazor.ProgressiveShrinkingHook',
        phases=[
            dict(begin=0),
            dict(begin=110, kernel_size='all'),
            dict(begin=183, depth=[3, 4]),
            dict(begin=198, depth='all'),
            dict(begin=271, expand_ratio=[4, 6]),
            dict(begin=286, expand_ratio='all'),
        ])
]

# All subnets of a step are one forward and one backward: mmengine's own DDP
# wrapper fits (mmrazor.BigNASDDP is an alias of it).
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=True)

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=1, save_best='auto'))
