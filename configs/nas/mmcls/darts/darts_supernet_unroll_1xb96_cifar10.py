# DARTS search on CIFAR-10 with the second-order (unrolled) architecture
# step; set `unroll=False` for the first-order approximation.
_base_ = [
    'mmcls::_base_/default_runtime.py',
    '../../../_base_/settings/cifar10_darts_supernet.py',
    '../../../_base_/nas_backbones/darts_supernet.py',
]

# The derived subnet (argmax ops, top-2 edges) every 10 epochs.
custom_hooks = [
    dict(type='mmrazor.DumpSubnetHook', interval=10, by_epoch=True)
]

model = dict(
    type='mmrazor.Darts',
    architecture=dict(
        type='mmcls.ImageClassifier',
        data_preprocessor=_base_.preprocess_cfg,
        backbone=_base_.nas_backbone,
        neck=dict(type='mmcls.GlobalAveragePooling'),
        head=dict(
            type='mmcls.LinearClsHead',
            num_classes=10,
            in_channels=256,
            loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0),
            topk=(1, 5),
            cal_acc=True)),
    mutator=dict(type='mmrazor.NasMutator'),
    unroll=True)

model_wrapper_cfg = dict(
    type='mmrazor.DartsDDP',
    broadcast_buffers=False,
    find_unused_parameters=False)
