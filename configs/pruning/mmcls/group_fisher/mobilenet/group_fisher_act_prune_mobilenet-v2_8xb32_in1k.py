# Group Fisher pruning (Liu et al., ICML 2021) of the mmcls ImageNet
# mobilenet-v2, channel importance normalised by activation memory ('act').
#
# From the pretrained model, GroupFisherAlgorithm accumulates the Fisher
# information of every channel and prunes the least informative one every
# `interval` iterations, at a lowered learning rate, until the FLOPs are at
# most `target_flop_ratio` of the original (counted at `input_shape`); the rest
# of the run trains the pruned network. Then fine-tune with
# group_fisher_act_finetune_mobilenet-v2_8xb32_in1k.py from the checkpoint of
# this run (it holds the structure), or export it with
# tools/pruning/get_static_model_from_algorithm.py. Published (original
# MMRazor): MobileNetV2 (71.86 top-1, 0.313 GFLOPs) pruned to 0.207 GFLOPs:
# 70.82 top-1 with 'act', 70.87 with 'flops' normalization after fine-tuning.
_base_ = 'mmcls::mobilenet_v2/mobilenet-v2_8xb32_in1k.py'
pretrained_path = 'https://download.openmmlab.com/mmclassification/v0/mobilenet_v2/mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth'  # noqa: E501

interval = 25
normalization_type = 'act'
lr_ratio = 0.1125

target_flop_ratio = 0.65
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
