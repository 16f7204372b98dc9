# BYOT, "Be Your Own Teacher" (Zhang et al., ICCV 2019): self-distillation
# of a CIFAR ResNet-18 on CIFAR-100. Each of stages 1-3 gets a shallow
# classifier (`BYOTConnector`: attention, bottleneck to 512 channels, pool,
# fc) trained with the labels (CE), the deepest classifier's logits (soft
# CE) and the deepest pooled feature (L2 hint); the deepest classifier keeps
# its own CE loss. Only the deepest classifier is used at test time.
_base_ = [
    'mmcls::_base_/datasets/cifar100_bs16.py',
    'mmcls::_base_/schedules/cifar10_bs128.py',
    'mmcls::_base_/default_runtime.py'
]

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[80, 160, 240], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=250, val_interval=1)

model = dict(
    _scope_='mmrazor',
    type='SelfDistill',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        # CIFAR-100 mean / std of RGB images in [0, 255]
        mean=[129.304, 124.070, 112.434],
        std=[68.170, 65.392, 70.418],
        bgr_to_rgb=False),
    architecture=dict(
        type='mmcls.ImageClassifier',
        backbone=dict(
            type='mmcls.ResNet_CIFAR',
            depth=18,
            num_stages=4,
            out_indices=(3, ),
            style='pytorch'),
        neck=dict(type='mmcls.GlobalAveragePooling'),
        head=dict(
            type='mmcls.LinearClsHead',
            num_classes=100,
            in_channels=512,
            loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0))),
    # dry run that checks the feature pairs when built: CIFAR images
    demo_input_shape=(1, 3, 32, 32),
    distiller=dict(
        type='BYOTDistiller',
        # shallow sections: output of the last block of stages 1-3 (the
        # second `relu` call of a basic block is its output)
        student_recorders=dict(
            bb_s1=dict(type='ModuleOutputs', source='backbone.layer1.1.relu'),
            bb_s2=dict(type='ModuleOutputs', source='backbone.layer2.1.relu'),
            bb_s3=dict(type='ModuleOutputs', source='backbone.layer3.1.relu')),
        # the deepest section of the same network is the teacher
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc'),
            # GlobalAveragePooling returns the flattened feature (N, 512)
            neck=dict(type='ModuleOutputs', source='neck'),
            # inputs of the deepest CE loss: (cls_score, gt label tensor)
            gt_labels=dict(type='ModuleInputs', source='head.loss_module')),
        # per section: L2 hint (the last section's weight is 0, as in the
        # paper's code), CE with the labels, soft CE with the deepest logits
        distill_losses=dict(
            loss_fet_1=dict(
                type='L2Loss', normalize=False, loss_weight=0.03, dist=True),
            loss_label_1=dict(
                type='mmcls.CrossEntropyLoss', loss_weight=0.7),
            loss_softl_1=dict(type='KDSoftCELoss', tau=3, loss_weight=0.3),
            loss_fet_2=dict(
                type='L2Loss', normalize=False, loss_weight=0.03, dist=True),
            loss_label_2=dict(
                type='mmcls.CrossEntropyLoss', loss_weight=0.7),
            loss_softl_2=dict(type='KDSoftCELoss', tau=3, loss_weight=0.3),
            loss_fet_3=dict(
                type='L2Loss', normalize=False, loss_weight=0.0, dist=True),
            loss_label_3=dict(
                type='mmcls.CrossEntropyLoss', loss_weight=0.7),
            loss_softl_3=dict(type='KDSoftCELoss', tau=3, loss_weight=0.3)),
        # (feat, logits) of each shallow classifier
        connectors=dict(
            loss_s1_sfeat=dict(
                type='BYOTConnector',
                in_channel=64,
                out_channel=512,
                expansion=1,
                kernel_size=3,
                stride=2,
                num_classes=100),
            loss_s2_sfeat=dict(
                type='BYOTConnector',
                in_channel=128,
                out_channel=512,
                expansion=1,
                kernel_size=3,
                stride=2,
                num_classes=100),
            loss_s3_sfeat=dict(
                type='BYOTConnector',
                in_channel=256,
                out_channel=512,
                expansion=1,
                kernel_size=3,
                stride=2,
                num_classes=100)),
        loss_forward_mappings=dict(
            loss_fet_1=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_s1',
                    record_idx=1,
                    connector='loss_s1_sfeat',
                    connector_idx=0),
                t_feature=dict(
                    from_student=False, recorder='neck', data_idx=0)),
            loss_label_1=dict(
                cls_score=dict(
                    from_student=True,
                    recorder='bb_s1',
                    record_idx=1,
                    connector='loss_s1_sfeat',
                    connector_idx=1),
                label=dict(
                    from_student=False, recorder='gt_labels', data_idx=1)),
            loss_softl_1=dict(
                preds_S=dict(
                    from_student=True,
                    recorder='bb_s1',
                    record_idx=1,
                    connector='loss_s1_sfeat',
                    connector_idx=1),
                preds_T=dict(from_student=False, recorder='fc')),
            loss_fet_2=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_s2',
                    record_idx=1,
                    connector='loss_s2_sfeat',
                    connector_idx=0),
                t_feature=dict(
                    from_student=False, recorder='neck', data_idx=0)),
            loss_label_2=dict(
                cls_score=dict(
                    from_student=True,
                    recorder='bb_s2',
                    record_idx=1,
                    connector='loss_s2_sfeat',
                    connector_idx=1),
                label=dict(
                    from_student=False, recorder='gt_labels', data_idx=1)),
            loss_softl_2=dict(
                preds_S=dict(
                    from_student=True,
                    recorder='bb_s2',
                    record_idx=1,
                    connector='loss_s2_sfeat',
                    connector_idx=1),
                preds_T=dict(from_student=False, recorder='fc')),
            loss_fet_3=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_s3',
                    record_idx=1,
                    connector='loss_s3_sfeat',
                    connector_idx=0),
                t_feature=dict(
                    from_student=False, recorder='neck', data_idx=0)),
            loss_label_3=dict(
                cls_score=dict(
                    from_student=True,
                    recorder='bb_s3',
                    record_idx=1,
                    connector='loss_s3_sfeat',
                    connector_idx=1),
                label=dict(
                    from_student=False, recorder='gt_labels', data_idx=1)),
            loss_softl_3=dict(
                preds_S=dict(
                    from_student=True,
                    recorder='bb_s3',
                    record_idx=1,
                    connector='loss_s3_sfeat',
                    connector_idx=1),
                preds_T=dict(from_student=False, recorder='fc')))))

find_unused_parameters = True
