# Group Fisher pruning (Liu et al., ICML 2021) of the mmcls ImageNet resnet50,
# channel importance normalised by activation memory ('act').
#
# From the pretrained model, GroupFisherAlgorithm accumulates the Fisher
# information of every channel and prunes the least informative one every
# `interval` iterations, at a lowered learning rate, until the FLOPs are at
# most `target_flop_ratio` of the original (counted at `input_shape`); the rest
# of the run trains the pruned network. Then fine-tune with
# group_fisher_act_finetune_resnet50_8xb32_in1k.py from the checkpoint of this
# run (it holds the structure), or export it with
# tools/pruning/get_static_model_from_algorithm.py. Published (original
# MMRazor): ResNet-50 (76.55 top-1, 4.11 GFLOPs) pruned to 2.06 GFLOPs: 75.22
# top-1 with 'act', 75.61 with 'flops' normalization after fine-tuning.
_base_ = 'mmcls::resnet/resnet50_8xb32_in1k.py'
pretrained_path = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'  # noqa: E501

interval = 25
normalization_type = 'act'
lr_ratio = 0.04

target_flop_ratio = 0.5
input_shape = (1, 3, 224, 224)

architecture = _base_.model
architecture.init_cfg = dict(type='Pretrained', checkpoint=pretrained_path)
architecture['_scope_'] = _base_.default_scope

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherAlgorithm',
    architecture=architecture,
    interval=interval,
    target_flop_ratio=target_flop_ratio,
    input_shape=input_shape,
    mutator=dict(
        type='GroupFisherChannelMutator',
        parse_cfg=dict(
            type='ChannelAnalyzer',
            demo_input=input_shape,
            tracer_type='FxTracer'),
        channel_unit_cfg=dict(
            type='GroupFisherChannelUnit',
            default_args=dict(normalization_type=normalization_type)),
    ),
)

# mmengine's DDP wrapper under the original name (pruning runs in forward)
model_wrapper_cfg = dict(
    type='mmrazor.GroupFisherDDP',
    broadcast_buffers=False,
)

optim_wrapper = dict(
    optimizer=dict(lr=_base_.optim_wrapper.optimizer.lr * lr_ratio))

val_cfg = dict(
    type='mmrazor.ItePruneValLoop',
    estimator_cfg=dict(input_shape=input_shape))
