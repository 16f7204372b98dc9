# AB loss, stage 2 of 2: start from the checkpoint of
# `abloss_pretrain_backbone_resnet50_resnet18_8xb32_in1k.py` (student and
# teacher inside it) and train the whole student with its classification
# loss plus KD on the logits.
_base_ = [
    'mmcls::_base_/datasets/imagenet_bs32.py',
    'mmcls::_base_/schedules/imagenet_bs256.py',
    'mmcls::_base_/default_runtime.py'
]

# Set this to the last checkpoint of the stage-1 run before training.
pretrain_checkpoint = 'work_dirs/abloss_pretrain_backbone_resnet50_resnet18_8xb32_in1k/epoch_20.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        # ImageNet mean / std of RGB images in [0, 255]
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    architecture=dict(
        cfg_path='mmcls::resnet/resnet18_8xb32_in1k.py', pretrained=False),
    teacher=dict(
        cfg_path='mmcls::resnet/resnet50_8xb32_in1k.py', pretrained=False),
    # the stage-1 checkpoint holds both the student and the teacher
    init_cfg=dict(type='Pretrained', checkpoint=pretrain_checkpoint),
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(
                type='KLDivergence', loss_weight=6.25, reduction='mean')),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
