# Fine-tuning of the resnet50 pruned by
# group_fisher_act_prune_resnet50_8xb32_in1k.py with distillation: the
# unpruned, pretrained resnet50 teaches the pruned one (GroupFisherSubModel,
# built from `pruned_path`, a checkpoint of the prune run) through DIST on
# the logits, on top of the classification loss, at `finetune_lr`.
_base_ = './group_fisher_act_prune_resnet50_8xb32_in1k.py'
pruned_path = 'work_dirs/group_fisher_act_prune_resnet50_8xb32_in1k/epoch_100.pth'  # noqa: E501
finetune_lr = 0.1

algorithm = _base_.model
# the unpruned model, with its pretrained weights, is the teacher
teacher = algorithm.architecture
algorithm.init_cfg = dict(type='Pretrained', checkpoint=pruned_path)

student = dict(
    _scope_='mmrazor', type='GroupFisherSubModel', algorithm=algorithm)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=None,
    architecture=student,
    teacher=teacher,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_dist=dict(type='DISTLoss', tau=1, loss_weight=1)),
        loss_forward_mappings=dict(
            loss_dist=dict(
                logits_S=dict(from_student=True, recorder='fc'),
                logits_T=dict(from_student=False, recorder='fc')))))

find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

optim_wrapper = dict(optimizer=dict(lr=finetune_lr))

# a plain model now: no pruning wrapper
model_wrapper_cfg = None
