# Factor transfer (Kim et al., NeurIPS 2018, https://arxiv.org/abs/1802.04977),
# stage 1 of 2 on CIFAR-10, ResNet-50 teacher -> ResNet-18 student (CIFAR
# variants): only the teacher-side Paraphraser trains, as an autoencoder of
# the teacher's last stage output (2048 channels, factor of 1024), with an
# L2 reconstruction loss. The student neither trains nor adds its loss.
# Stage 2 (..._train.py) starts from the checkpoint of this run.
_base_ = [
    'mmcls::_base_/datasets/cifar10_bs16.py',
    'mmcls::_base_/schedules/cifar10_bs128.py',
    'mmcls::_base_/default_runtime.py'
]

train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)

# mmcls' ResNet-50 on CIFAR-10 (95.55 top-1)
teacher_ckpt = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_b16x8_cifar10_20210528-f54bfad9.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        # ImageNet mean / std of RGB images in [0, 255], as the published run
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    architecture=dict(
        cfg_path='mmcls::resnet/resnet18_8xb16_cifar10.py', pretrained=False),
    teacher=dict(
        cfg_path='mmcls::resnet/resnet50_8xb16_cifar10.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    calculate_student_loss=False,
    student_trainable=False,
    distiller=dict(
        type='ConfigurableDistiller',
        # the last conv of each network's last stage
        student_recorders=dict(
            bb_s4=dict(
                type='ModuleOutputs', source='backbone.layer4.1.conv2')),
        teacher_recorders=dict(
            bb_s4=dict(
                type='ModuleOutputs', source='backbone.layer4.2.conv3')),
        distill_losses=dict(
            loss_s4_pretrain=dict(type='L2Loss', loss_weight=1.0)),
        connectors=dict(
            loss_s4_sfeat=dict(
                type='Translator', in_channel=512, out_channel=1024),
            loss_s4_tfeat=dict(
                type='Paraphraser',
                phase='pretrain',
                in_channel=2048,
                out_channel=1024)),
        # the teacher feature against its reconstruction: both arguments
        # come from the teacher (the argument names are the loss's)
        loss_forward_mappings=dict(
            loss_s4_pretrain=dict(
                s_feature=dict(from_student=False, recorder='bb_s4'),
                t_feature=dict(
                    from_student=False,
                    recorder='bb_s4',
                    connector='loss_s4_tfeat')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
