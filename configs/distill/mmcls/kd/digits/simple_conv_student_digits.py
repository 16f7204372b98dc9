# Student of the digits distillation demo (tools/demo_distill.py), trained
# alone with cross-entropy: mmrazor's SimpleConvNet (two 3x3 convs of 16 and
# 32 channels), global average pooling and a linear head, 5.5 k params.
# 69.0 +- 3.8% val top-1 after 10 epochs (seeds 0-2): small enough to gain
# from a teacher (kd_logits_teacher_student_digits.py, same schedule: 77.1%).
_base_ = ['./resnet18_cifar16_teacher_digits.py']

model = dict(
    _delete_=True,
    _scope_='mmcls',
    type='ImageClassifier',
    data_preprocessor=_base_.preprocess_cfg,
    backbone=dict(type='mmrazor.SimpleConvNet', channels=(16, 32)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=32,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, ),
        init_cfg=None,  # as the teacher's: PyTorch's default init
    ),
)
