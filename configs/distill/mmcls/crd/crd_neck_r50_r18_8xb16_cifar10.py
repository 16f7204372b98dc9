# CRD (Tian et al., ICLR 2020): ResNet-50 -> ResNet-18 (CIFAR variants) on
# CIFAR-10. The pooled neck features of both networks are projected to 128
# dims by `CRDConnector`s and contrasted (`CRDLoss`) against 16384 negatives
# per sample from memory banks of the 50000 training images; `CRDDataset`
# draws each sample's negatives (other classes) and `PackCRDClsInputs`
# packs them with the sample index. The keys are the original MMRazor's.
_base_ = [
    'mmcls::_base_/datasets/cifar10_bs16.py',
    'mmcls::_base_/schedules/cifar10_bs128.py',
    'mmcls::_base_/default_runtime.py'
]

# mmcls' ResNet-50 on CIFAR-10 (95.55 top-1)
teacher_ckpt = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_b16x8_cifar10_20210528-f54bfad9.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        # CIFAR-10 mean / std of RGB images in [0, 255]
        mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255],
        bgr_to_rgb=False),
    architecture=dict(
        cfg_path='mmcls::resnet/resnet18_8xb16_cifar10.py', pretrained=False),
    teacher=dict(
        cfg_path='mmcls::resnet/resnet50_8xb16_cifar10.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            neck=dict(type='ModuleOutputs', source='neck.gap'),
            # the data samples (sample_idx, contrast_sample_idxs): the
            # second input of the student's forward
            data_samples=dict(type='ModuleInputs', source='')),
        teacher_recorders=dict(
            neck=dict(type='ModuleOutputs', source='neck.gap')),
        distill_losses=dict(
            loss_crd=dict(
                type='CRDLoss', loss_weight=0.8, neg_num=16384,
                sample_n=50000)),
        connectors=dict(
            loss_crd_stu=dict(type='CRDConnector', dim_in=512, dim_out=128),
            loss_crd_tea=dict(type='CRDConnector', dim_in=2048, dim_out=128)),
        loss_forward_mappings=dict(
            loss_crd=dict(
                s_feats=dict(
                    from_student=True,
                    recorder='neck',
                    connector='loss_crd_stu'),
                t_feats=dict(
                    from_student=False,
                    recorder='neck',
                    connector='loss_crd_tea'),
                data_samples=dict(
                    from_student=True, recorder='data_samples',
                    data_idx=1)))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

# CIFAR-10 wrapped in CRDDataset; PackCRDClsInputs ends both pipelines.
dataset_type = 'CIFAR10'
train_pipeline = [
    dict(_scope_='mmcls', type='RandomCrop', crop_size=32, padding=4),
    dict(_scope_='mmcls', type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(_scope_='mmrazor', type='PackCRDClsInputs'),
]
test_pipeline = [dict(_scope_='mmrazor', type='PackCRDClsInputs')]

ori_train_dataset = dict(
    _scope_='mmcls',
    type=dataset_type,
    data_prefix='data/cifar10',
    test_mode=False,
    pipeline=train_pipeline)
crd_train_dataset = dict(
    _scope_='mmrazor',
    type='CRDDataset',
    dataset=ori_train_dataset,
    neg_num=16384,
    sample_mode='exact',
    percent=1.0)

ori_test_dataset = dict(
    _scope_='mmcls',
    type=dataset_type,
    data_prefix='data/cifar10/',
    test_mode=True,
    pipeline=test_pipeline)
crd_test_dataset = dict(
    _scope_='mmrazor',
    type='CRDDataset',
    dataset=ori_test_dataset,
    neg_num=16384,
    sample_mode='exact',
    percent=1.0)

train_dataloader = dict(
    _delete_=True,
    batch_size=16,
    num_workers=2,
    dataset=crd_train_dataset,
    sampler=dict(type='DefaultSampler', shuffle=True),
    persistent_workers=True)
val_dataloader = dict(
    _delete_=True,
    batch_size=16,
    num_workers=2,
    dataset=crd_test_dataset,
    sampler=dict(type='DefaultSampler', shuffle=False),
    persistent_workers=True)
