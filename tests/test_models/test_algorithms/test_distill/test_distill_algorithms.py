# Copyright (c) OpenMMLab. All rights reserved.
import copy

import pytest
import torch
from mmcls.structures import ClsDataSample
from mmengine.optim import OptimWrapper
from mmengine.structures import LabelData

from mmrazor.models import (
    OverhaulFeatureDistillation,
    SelfDistill,
    SingleTeacherDistill,
)
from mmrazor.registry import MODELS


def classifier(base=8, num_classes=10):
    return dict(
        type='mmcls.ImageClassifier',
        backbone=dict(type='mmcls.ResNet_CIFAR', depth=18, base_channels=base,
                      stem_channels=base),
        neck=dict(type='mmcls.GlobalAveragePooling'),
        head=dict(type='mmcls.LinearClsHead', num_classes=num_classes,
                  in_channels=base * 8,
                  loss=dict(type='mmcls.CrossEntropyLoss')))


KD = dict(
    type='ConfigurableDistiller',
    student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=1,
                                     loss_weight=3)),
    loss_forward_mappings=dict(loss_kl=dict(
        preds_S=dict(from_student=True, recorder='fc'),
        preds_T=dict(from_student=False, recorder='fc'))))


def kd(**kwargs):
    cfg = dict(architecture=classifier(8), teacher=classifier(16),
               distiller=copy.deepcopy(KD), demo_input_shape=(1, 3, 32, 32))
    cfg.update(kwargs)
    return SingleTeacherDistill(**cfg)


def batch(n=4):
    samples = [ClsDataSample(gt_label=LabelData(label=torch.tensor([i % 10])))
               for i in range(n)]
    return dict(inputs=torch.randint(0, 255, (n, 3, 32, 32)).float(),
                data_samples=samples)


def test_train_step_student_and_distill_losses_teacher_frozen():
    algo = kd()
    before = {k: v.clone() for k, v in algo.teacher.state_dict().items()}
    student_w = algo.student.head.fc.weight.clone()
    optim = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.1))
    algo.train()
    log = algo.train_step(batch(), optim)
    assert {'student.loss', 'distill.loss_kl', 'loss'} <= set(log)
    assert all(p.grad is None for p in algo.teacher.parameters())
    assert not any(p.requires_grad for p in algo.teacher.parameters())
    assert not torch.equal(student_w, algo.student.head.fc.weight)
    after = algo.teacher.state_dict()
    # Frozen weights and (norm_eval) frozen BN statistics.
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not algo.teacher.backbone.bn1.training


def test_trainable_teacher_and_stop():
    algo = kd(teacher_trainable=True, teacher_norm_eval=False)
    losses = algo.loss(**algo.data_preprocessor(batch(), True))
    assert {'teacher.loss', 'student.loss', 'distill.loss_kl'} <= set(losses)
    algo.stop_distillation()
    losses = algo.loss(**algo.data_preprocessor(batch(), True))
    assert 'distill.loss_kl' not in losses
    assert bool(algo.state_dict()['distillation_stopped'])


def test_teacher_ckpt_is_loaded(tmp_path):
    teacher = MODELS.build(classifier(16))
    path = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': teacher.state_dict()}, path)
    algo = kd(teacher_ckpt=path)
    # The runner initialises the model after building it: the loaded
    # teacher must survive that.
    algo.init_weights()
    for key, value in teacher.state_dict().items():
        assert torch.equal(algo.teacher.state_dict()[key], value)
    wrong = str(tmp_path / 'wrong.pth')
    torch.save({'state_dict': {'architecture.' + k: v for k, v in
                               teacher.state_dict().items()}}, wrong)
    with pytest.raises(RuntimeError, match='convert_distill_ckpt'):
        kd(teacher_ckpt=wrong)


def test_cfg_path_teacher_and_shape_mismatch():
    cfg_path = dict(cfg_path='mmcls::resnet/resnet18_8xb16_cifar10.py',
                    pretrained=False)
    # Student with 100 classes against the 10-class cifar teacher.
    with pytest.raises(ValueError) as info:
        kd(teacher=cfg_path, architecture=classifier(8, num_classes=100))
    msg = str(info.value)
    for word in ("'loss_kl'", 'preds_S', 'preds_T', '(1, 100)', '(1, 10)'):
        assert word in msg, (word, msg)
    algo = kd(teacher=cfg_path)
    assert type(algo.teacher).__name__ == 'ImageClassifier'
    assert algo.teacher.backbone.layer4[0].conv1.out_channels == 512


def test_missing_recorder_module_fails_at_build():
    distiller = copy.deepcopy(KD)
    distiller['teacher_recorders']['fc']['source'] = 'head.fcc'
    with pytest.raises(ValueError, match="'head.fcc'.*'head.fc'"):
        kd(distiller=distiller)


def test_self_distill_byot():
    distiller = dict(
        type='BYOTDistiller',
        student_recorders=dict(
            bb_s1=dict(type='ModuleOutputs', source='backbone.layer1.1.relu')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc'),
            neck=dict(type='ModuleOutputs', source='neck'),
            gt_labels=dict(type='ModuleInputs', source='head.loss_module')),
        connectors=dict(s1=dict(type='BYOTConnector', in_channel=8,
                                out_channel=64, expansion=1, num_classes=10,
                                stride=2)),
        distill_losses=dict(
            loss_fet_1=dict(type='L2Loss', normalize=False),
            loss_label_1=dict(type='mmcls.CrossEntropyLoss'),
            loss_softl_1=dict(type='KDSoftCELoss', tau=3)),
        loss_forward_mappings=dict(
            loss_fet_1=dict(
                s_feature=dict(recorder='bb_s1', from_student=True,
                               connector='s1', connector_idx=0),
                t_feature=dict(recorder='neck', from_student=False,
                               data_idx=0)),
            loss_label_1=dict(
                cls_score=dict(recorder='bb_s1', from_student=True,
                               connector='s1', connector_idx=1),
                label=dict(recorder='gt_labels', from_student=False,
                           data_idx=1)),
            loss_softl_1=dict(
                preds_S=dict(recorder='bb_s1', from_student=True,
                             connector='s1', connector_idx=1),
                preds_T=dict(recorder='fc', from_student=False))))
    algo = SelfDistill(architecture=classifier(8), distiller=distiller,
                       demo_input_shape=(1, 3, 32, 32))
    optim = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.1))
    log = algo.train_step(batch(), optim)
    assert {'student.loss', 'distill.loss_fet_1', 'distill.loss_label_1',
            'distill.loss_softl_1'} <= set(log)


def ofd_distiller(s_source='backbone.layer4.0.bn1',
                  t_source='backbone.layer4.0.bn1'):
    return dict(
        type='OFDDistiller',
        student_recorders=dict(bb=dict(type='ModuleOutputs',
                                       source=s_source)),
        teacher_recorders=dict(bb=dict(type='ModuleOutputs',
                                       source=t_source)),
        distill_losses=dict(loss_1=dict(type='OFDLoss')),
        connectors=dict(
            s=dict(type='ConvModuleConncetor', in_channel=64,
                   out_channel=128, norm_cfg=dict(type='BN'), act_cfg=None),
            t=dict(type='OFDTeacherConnector')),
        loss_forward_mappings=dict(loss_1=dict(
            s_feature=dict(from_student=True, recorder='bb', connector='s'),
            t_feature=dict(from_student=False, recorder='bb',
                           connector='t'))))


def test_ofd_inits_margins_from_teacher_bn():
    algo = OverhaulFeatureDistillation(
        architecture=classifier(8), teacher=classifier(16),
        distiller=ofd_distiller(), demo_input_shape=(1, 3, 32, 32))
    margin = algo.distiller.connectors['t'].margin
    assert margin.shape == (1, 128, 1, 1)
    losses = algo.loss(**algo.data_preprocessor(batch(), True))
    assert torch.isfinite(losses['distill.loss_1'])
    with pytest.raises(TypeError, match="'backbone.layer4.0.conv1'"):
        OverhaulFeatureDistillation(
            architecture=classifier(8), teacher=classifier(16),
            distiller=ofd_distiller(t_source='backbone.layer4.0.conv1'),
            demo_input_shape=None)


def test_frozen_teacher_stays_in_eval_mode_and_records_are_freed():
    algo = kd()
    algo.train()
    assert not any(m.training for m in algo.teacher.modules())
    assert algo.architecture.training
    batch = algo.data_preprocessor(
        dict(inputs=[torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
                     for _ in range(2)],
             data_samples=[ClsDataSample().set_gt_label(i) for i in (0, 1)]),
        True)
    algo(batch['inputs'], batch['data_samples'], mode='loss')
    for manager in (algo.distiller.student_recorders,
                    algo.distiller.teacher_recorders):
        for name in ('fc', ):
            assert not manager.get_recorder(name).data_buffer


def test_activations_not_inplace_so_records_are_pre_activation():
    """As the original MMRazor: a recorder on a BN followed by
    ``ReLU(inplace=True)`` records the BN's output, not the ReLU's."""
    distiller = copy.deepcopy(KD)
    distiller['student_recorders']['bn'] = dict(
        type='ModuleOutputs', source='backbone.layer1.0.bn1')
    algo = kd(distiller=distiller)
    relus = [m for m in algo.modules() if isinstance(m, torch.nn.ReLU)]
    assert relus and not any(m.inplace for m in relus)
    with algo.distiller.student_recorders:
        algo.student(batch()['inputs'], mode='tensor')
    record = algo.distiller.student_recorders.get_record_data('bn')
    assert (record < 0).any()
    kept = kd(distiller=copy.deepcopy(KD), module_inplace=True)
    assert any(m.inplace for m in kept.modules()
               if isinstance(m, torch.nn.ReLU))
