# Group Fisher pruning on the digits dataset: a CPU demo of the pruning
# pipeline. The model is the digits distillation teacher (mmcls
# ResNet_CIFAR-18 at a quarter width, 35 M MACs at 32x32); train it first:
#
#   python tools/train.py \
#       configs/distill/mmcls/kd/digits/resnet18_cifar16_teacher_digits.py
#
# then prune it: one channel per iteration (the least informative by its
# Fisher information, normalised by FLOPs) until the FLOPs are 80% of the
# original, while training on at a lower learning rate for the rest of the
# schedule. Export the result with
# tools/pruning/get_static_model_from_algorithm.py ... --input-shape 1 3 32 32
#
# One run (seed 0, 2 shared cores, 5 min): 211 channels pruned by epoch 10,
# mostly in the last stage; 28.2 of 35.5 MFLOPs (0.795), 0.285 of 0.701 M
# params; 98.3% val top-1 (98.1% unpruned), the same with the exported
# static model and its deploy config (tools/test.py).
_base_ = [
    '../../../distill/mmcls/kd/digits/resnet18_cifar16_teacher_digits.py'
]

pretrained_path = 'work_dirs/resnet18_cifar16_teacher_digits/epoch_10.pth'
input_shape = (1, 3, 32, 32)
max_epochs = 12

architecture = _base_.model
architecture.init_cfg = dict(type='Pretrained', checkpoint=pretrained_path)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherAlgorithm',
    architecture=architecture,
    interval=1,
    target_flop_ratio=0.8,
    input_shape=input_shape,
    mutator=dict(
        type='GroupFisherChannelMutator',
        parse_cfg=dict(type='ChannelAnalyzer', demo_input=input_shape),
        channel_unit_cfg=dict(
            type='GroupFisherChannelUnit',
            default_args=dict(normalization_type='flops'))),
)

optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict(
    type='mmrazor.ItePruneValLoop',
    estimator_cfg=dict(input_shape=input_shape))
