# Retrain the DARTS paper's genotype (DARTS V2) on CIFAR-10: C=36, 20 cells,
# auxiliary tower (weight 0.4). 3,827,928 parameters with the auxiliary head,
# 3,351,502 without (the paper's 3.3 M).
_base_ = [
    'mmcls::_base_/default_runtime.py',
    '../../../_base_/settings/cifar10_darts_subnet.py',
    '../../../_base_/nas_backbones/darts_supernet.py',
]

subnet_backbone = _base_.nas_backbone
subnet_backbone.base_channels = 36
subnet_backbone.num_layers = 20
subnet_backbone.auxliary = True
subnet_backbone.aux_channels = 128
subnet_backbone.aux_out_channels = 768
subnet_backbone.out_indices = (19, )
subnet_backbone.norm_cfg = norm_cfg = dict(type='BN', affine=True)

supernet = dict(
    type='mmcls.ImageClassifier',
    data_preprocessor=_base_.preprocess_cfg,
    backbone=subnet_backbone,
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(
        type='mmrazor.DartsSubnetClsHead',
        num_classes=10,
        in_channels=576,
        aux_in_channels=768,
        loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0),
        aux_loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=0.4),
        topk=(1, 5),
        cal_acc=True))

model = dict(
    type='mmrazor.sub_model',
    cfg=supernet,
    # Replace the yaml with the subnet your search dumped.
    fix_subnet='{{fileDirname}}/DARTS_SUBNET_CIFAR_PAPER_ALIAS.yaml',
    # The original MMRazor's retrained weights (97.27% top-1):
    # init_cfg=dict(
    #     type='Pretrained',
    #     checkpoint='https://download.openmmlab.com/mmrazor/v1/darts/'  # noqa
    #     'darts_subnetnet_1xb96_cifar10_acc-97.27_20211222-17e42600_latest.pth',  # noqa: E501
    #     prefix='architecture.'),
)

model_wrapper_cfg = None
find_unused_parameters = True
