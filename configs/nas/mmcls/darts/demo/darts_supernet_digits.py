# DARTS search on scikit-learn's digits at their native 8x8: the CPU demo
# of differentiable NAS (tools/demo_darts.py runs it, derives the genotype
# and retrains it against random genotypes of the same space).
#
# The space: 5 cells (normal, reduce, normal, reduce, normal) of 3 nodes,
# C=8; every edge chooses among 6 DARTS ops and every node keeps 2 of its
# incoming edges. A cell type has 2 + 3 + 4 = 9 edges and 3 nodes: 12 search
# groups and 9 x 6 + 9 = 63 architecture weights, 126 for both types.
_base_ = ['mmcls::_base_/default_runtime.py']

image_size = 8
search_epochs = 20
# Weights only for the first half: with untrained convolutions the
# architecture step favours parameter-free ops (Zela et al., ICLR 2020), as
# a search without warm-up did here (an all-average-pooling normal cell).
arch_warmup_epochs = 10

# Digits statistics at 8x8 (mmrazor.datasets.digits_mean_std(8)).
preprocess_cfg = dict(
    num_classes=10, mean=[77.89] * 3, std=[95.87] * 3, to_rgb=False)

# Search as the paper does: BN without affine parameters.
op_norm_cfg = dict(type='BN', affine=False)
candidates = dict(
    zero=dict(type='mmrazor.DartsZero'),
    skip_connect=dict(type='mmrazor.DartsSkipConnect', norm_cfg=op_norm_cfg),
    max_pool_3x3=dict(
        type='mmrazor.DartsPoolBN', pool_type='max', norm_cfg=op_norm_cfg),
    avg_pool_3x3=dict(
        type='mmrazor.DartsPoolBN', pool_type='avg', norm_cfg=op_norm_cfg),
    sep_conv_3x3=dict(
        type='mmrazor.DartsSepConv', kernel_size=3, norm_cfg=op_norm_cfg),
    dil_conv_3x3=dict(
        type='mmrazor.DartsDilConv', kernel_size=3, norm_cfg=op_norm_cfg))

nas_backbone = dict(
    type='mmrazor.DartsBackbone',
    in_channels=3,
    base_channels=8,
    num_layers=5,
    num_nodes=3,
    stem_multiplier=3,
    out_indices=(4, ),
    mutable_cfg=dict(type='mmrazor.DiffMutableOP', candidates=candidates),
    route_cfg=dict(type='mmrazor.DiffChoiceRoute', with_arch_param=True),
    norm_cfg=dict(type='BN', affine=False))

supernet = dict(
    type='mmcls.ImageClassifier',
    data_preprocessor=preprocess_cfg,
    backbone=nas_backbone,
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(
        type='mmcls.LinearClsHead',
        num_classes=10,
        in_channels=8 * 4 * 3,  # C x 4 (two reductions) x 3 nodes
        loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))

model = dict(
    type='mmrazor.Darts',
    architecture=supernet,
    mutator=dict(type='mmrazor.NasMutator'),
    unroll=True,
    arch_warmup_epochs=arch_warmup_epochs)

# The 1437 training images in two halves: weights learn on the first 718,
# the architecture on the last 719 (the split is sorted by digit index,
# whose classes cycle). The 360 val images only show progress (the
# supernet's accuracy).
train_pipeline = [
    dict(type='mmcls.RandomCrop', crop_size=image_size, padding=1),
    dict(type='mmcls.PackClsInputs'),
]
test_pipeline = [dict(type='mmcls.PackClsInputs')]


def _loader(split, indices, pipeline, shuffle):
    return dict(
        batch_size=64,
        num_workers=0,
        persistent_workers=False,
        dataset=dict(
            type='mmrazor.DigitsDataset',
            split=split,
            image_size=image_size,
            indices=indices,
            pipeline=pipeline,
            test_mode=split == 'val'),
        sampler=dict(type='DefaultSampler', shuffle=shuffle))


train_dataloader = _loader('train', 718, train_pipeline, True)
val_dataloader = _loader('val', None, test_pipeline, False)
val_evaluator = dict(type='mmcls.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

train_cfg = dict(
    type='mmrazor.DartsEpochBasedTrainLoop',
    max_epochs=search_epochs,
    val_interval=1,
    mutator_dataloader=_loader('train', -719, train_pipeline, True))
val_cfg = dict()
test_cfg = dict()

# Weights: SGD with cosine decay; architecture: Adam at 100x the paper's
# 3e-4, since it takes 120 steps here, not about 20k: the architecture
# weights can move about as far.
optim_wrapper = dict(
    constructor='mmrazor.SeparateOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=3e-4),
        clip_grad=dict(max_norm=5, norm_type=2)),
    mutator=dict(
        optimizer=dict(
            type='Adam', lr=3e-2, betas=(0.5, 0.999), weight_decay=1e-3)))
param_scheduler = dict(
    architecture=[
        dict(
            type='CosineAnnealingLR',
            T_max=search_epochs,
            eta_min=1e-3,
            by_epoch=True,
            begin=0,
            end=search_epochs,
            convert_to_iter_based=True)
    ],
    mutator=[])

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=-1, save_last=True))
# The derived genotype at the end of the search (subnet_epoch_N.yaml).
custom_hooks = [dict(type='mmrazor.DumpSubnetHook', interval=-1)]

env_cfg = dict(dist_cfg=dict(backend='gloo', timeout=300))
randomness = dict(seed=0)
