# Logit distillation (Hinton et al., 2015) on digits: the ResNet_CIFAR-18/16
# teacher of resnet18_cifar16_teacher_digits.py into the SimpleConvNet
# student of simple_conv_student_digits.py, same data and schedule. Loss:
# 0.1 * CE(student, labels) + 0.9 * tau^2 KL(teacher || student) at tau = 4.
# Measured by tools/demo_distill.py (2 shared cores, 5 min in all): the
# student reached 77.1 +- 3.1% val top-1 distilled against 69.0 +- 3.8%
# alone after 10 epochs (seeds 0-2, +5.6 to +9.7 per seed), from a 98.1%
# teacher.
#
# Give the trained teacher's checkpoint on the command line:
#   python tools/train.py \
#       configs/distill/mmcls/kd/digits/kd_logits_teacher_student_digits.py \
#       --cfg-options model.teacher_ckpt=work_dirs/teacher/epoch_10.pth
# (tools/demo_distill.py trains the teacher and passes it).
_base_ = ['./simple_conv_student_digits.py']

# The student's own CE loss keeps a weight of 0.1.
student = _base_.model
student.head.loss.loss_weight = 0.1

# The teacher is the model of resnet18_cifar16_teacher_digits.py; its
# weights come from `teacher_ckpt`.
teacher = dict(
    cfg_path='{{fileDirname}}/resnet18_cifar16_teacher_digits.py',
    pretrained=False)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=None,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputsRecorder', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputsRecorder', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=4, loss_weight=0.9)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))),
    # The build-time check of the paired logits runs on a digits-sized batch.
    demo_input_shape=(1, 3, 32, 32))
