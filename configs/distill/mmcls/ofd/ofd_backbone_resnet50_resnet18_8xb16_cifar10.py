# OFD (Heo et al., ICCV 2019): ResNet-50 -> ResNet-18 (CIFAR variants) on
# CIFAR-10. At the ends of stages 2-4 the student feature, lifted to the
# teacher's channels by a 1x1 conv + BN, imitates the teacher's pre-ReLU
# feature passed through the margin ReLU (`OFDTeacherConnector`, margin
# from the statistics of the BN that produced it; the algorithm sets it
# when it is built, so the teacher recorders must name BN layers).
_base_ = [
    'mmcls::_base_/datasets/cifar10_bs16.py',
    'mmcls::_base_/schedules/cifar10_bs128.py',
    'mmcls::_base_/default_runtime.py'
]

# mmcls' ResNet-50 on CIFAR-10 (95.55 top-1)
teacher_ckpt = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_b16x8_cifar10_20210528-f54bfad9.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='OverhaulFeatureDistillation',
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
    # dry run that checks the feature pairs when built: CIFAR images
    demo_input_shape=(1, 3, 32, 32),
    distiller=dict(
        type='OFDDistiller',
        # the last BN of the last block of each stage, copied before the
        # block adds its identity in place
        student_recorders=dict(
            bb_2=dict(
                type='ModuleOutputs',
                source='backbone.layer2.1.bn2',
                clone=True),
            bb_3=dict(
                type='ModuleOutputs',
                source='backbone.layer3.1.bn2',
                clone=True),
            bb_4=dict(
                type='ModuleOutputs',
                source='backbone.layer4.1.bn2',
                clone=True)),
        teacher_recorders=dict(
            bb_2=dict(
                type='ModuleOutputs',
                source='backbone.layer2.3.bn3',
                clone=True),
            bb_3=dict(
                type='ModuleOutputs',
                source='backbone.layer3.5.bn3',
                clone=True),
            bb_4=dict(
                type='ModuleOutputs',
                source='backbone.layer4.2.bn3',
                clone=True)),
        # deeper stages weigh more
        distill_losses=dict(
            loss_2=dict(type='OFDLoss', loss_weight=0.25),
            loss_3=dict(type='OFDLoss', loss_weight=0.5),
            loss_4=dict(type='OFDLoss', loss_weight=1.0)),
        connectors=dict(
            loss_2_sfeat=dict(
                type='ConvModuleConnector',
                in_channel=128,
                out_channel=512,
                norm_cfg=dict(type='BN'),
                act_cfg=None),
            loss_2_tfeat=dict(type='OFDTeacherConnector'),
            loss_3_sfeat=dict(
                type='ConvModuleConnector',
                in_channel=256,
                out_channel=1024,
                norm_cfg=dict(type='BN'),
                act_cfg=None),
            loss_3_tfeat=dict(type='OFDTeacherConnector'),
            loss_4_sfeat=dict(
                type='ConvModuleConnector',
                in_channel=512,
                out_channel=2048,
                norm_cfg=dict(type='BN'),
                act_cfg=None),
            loss_4_tfeat=dict(type='OFDTeacherConnector')),
        loss_forward_mappings=dict(
            loss_2=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_2',
                    connector='loss_2_sfeat'),
                t_feature=dict(
                    from_student=False,
                    recorder='bb_2',
                    connector='loss_2_tfeat')),
            loss_3=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_3',
                    connector='loss_3_sfeat'),
                t_feature=dict(
                    from_student=False,
                    recorder='bb_3',
                    connector='loss_3_tfeat')),
            loss_4=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_4',
                    connector='loss_4_sfeat'),
                t_feature=dict(
                    from_student=False,
                    recorder='bb_4',
                    connector='loss_4_tfeat')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
