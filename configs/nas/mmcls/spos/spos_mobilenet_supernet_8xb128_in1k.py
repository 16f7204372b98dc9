# SPOS supernet training of the MobileNet space (7 candidates per block).
_base_ = [
    'mmcls::_base_/default_runtime.py',
    '../../../_base_/settings/imagenet_bs1024_spos.py',
    '../../../_base_/nas_backbones/spos_mobilenet_supernet.py',
]

# model
supernet = dict(
    _scope_='mmcls',
    type='ImageClassifier',
    data_preprocessor=_base_.preprocess_cfg,
    backbone=_base_.nas_backbone,
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1728,
        loss=dict(
            type='LabelSmoothLoss',
            num_classes=1000,
            label_smooth_val=0.1,
            mode='original',
            loss_weight=1.0),
        topk=(1, 5),
    ),
)

model = dict(
    type='mmrazor.SPOS',
    architecture=supernet,
    mutator=dict(type='mmrazor.NasMutator'),
)

# Each step trains one path: the other candidates get no gradient.
find_unused_parameters = True
