# KD (Hinton et al., 2015, https://arxiv.org/abs/1503.02531): the mmcls
# ImageNet ResNet-50 teacher -> the mmcls ShuffleNetV2 1.0x student, with
# that student config's own data pipeline and schedule; KL divergence
# between the two classifiers' logits (temperature 1, weight 3).
_base_ = ['mmcls::shufflenet_v2/shufflenet-v2-1x_16xb64_in1k.py']

# mmcls' ResNet-50 (76.55 top-1)
teacher_ckpt = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'  # noqa: E501

student = _base_.model
student['_scope_'] = _base_.default_scope

model = dict(
    _scope_='mmrazor',
    _delete_=True,
    type='SingleTeacherDistill',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        # ImageNet mean / std of RGB images in [0, 255]
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    architecture=student,
    teacher=dict(
        cfg_path='mmcls::resnet/resnet50_8xb32_in1k.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        # logits of both classifiers
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=1, loss_weight=3)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
