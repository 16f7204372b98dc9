# Copyright (c) OpenMMLab. All rights reserved.
import copy
import importlib.util
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.engine import SingleTeacherDistillValLoop, StopDistillHook
from mmrazor.registry import MODELS

from .conftest import fake_loader

ROOT = Path(__file__).resolve().parents[2]


def classifier(base):
    return dict(
        type='mmcls.ImageClassifier',
        backbone=dict(type='mmcls.ResNet_CIFAR', depth=18, base_channels=base,
                      stem_channels=base),
        neck=dict(type='mmcls.GlobalAveragePooling'),
        head=dict(type='mmcls.LinearClsHead', num_classes=10,
                  in_channels=base * 8,
                  loss=dict(type='mmcls.CrossEntropyLoss')))


MODEL = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=dict(type='ImgDataPreprocessor', mean=[128.] * 3,
                           std=[64.] * 3),
    architecture=classifier(8),
    teacher=classifier(16),
    demo_input_shape=(1, 3, 32, 32),
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fc=dict(type='ModuleOutputs',
                                       source='head.fc')),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs',
                                       source='head.fc')),
        distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=1,
                                         loss_weight=3)),
        loss_forward_mappings=dict(loss_kl=dict(
            preds_S=dict(from_student=True, recorder='fc'),
            preds_T=dict(from_student=False, recorder='fc')))))


def run_cfg(work_dir, max_epochs=2, hooks=()):
    return Config(dict(
        default_scope='mmcls',
        custom_imports=dict(imports=['mmrazor.testing'],
                            allow_failed_imports=False),
        model=copy.deepcopy(MODEL),
        work_dir=str(work_dir),
        train_dataloader=fake_loader(8, shuffle=True),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs,
                       val_interval=max_epochs),
        val_dataloader=fake_loader(8),
        val_evaluator=dict(type='Accuracy', topk=(1, )),
        val_cfg=dict(type='mmrazor.SingleTeacherDistillValLoop'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        custom_hooks=list(hooks),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=max_epochs),
                           logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        log_level='WARNING'))


def test_val_loop_teacher_prefix_and_stop_hook(tmp_path):
    cfg = run_cfg(tmp_path, hooks=[dict(type='mmrazor.StopDistillHook',
                                        stop_epoch=1)])
    runner = Runner.from_cfg(cfg)
    logged = []
    orig = runner.model.loss

    def spy(*args, **kwargs):
        losses = orig(*args, **kwargs)
        logged.append(sorted(losses))
        return losses

    runner.model.loss = spy
    runner.train()
    assert isinstance(runner.val_loop, SingleTeacherDistillValLoop)
    assert 'distill.loss_kl' in logged[0] and \
        'distill.loss_kl' in logged[1]  # epoch 0
    assert all('distill.loss_kl' not in keys
               for keys in logged[2:])  # epoch 1
    assert all('student.loss' in keys for keys in logged)
    metrics = runner.val_loop.run()
    assert set(metrics) == {'accuracy/top1', 'teacher.accuracy/top1'}

    # The converter keeps the student only, loadable weights-only.
    convert = _converter()
    out = tmp_path / 'student.pth'
    assert convert.main([str(tmp_path / 'epoch_2.pth'), str(out)]) == 0
    state = torch.load(out, weights_only=True)['state_dict']
    student = MODELS.build(classifier(8))
    student.load_state_dict(state)  # strict: exactly the student's keys
    assert torch.equal(state['head.fc.weight'],
                       runner.model.student.head.fc.weight)
    # It refuses to overwrite.
    assert convert.main([str(tmp_path / 'epoch_2.pth'), str(out)]) == 1


def _converter():
    path = ROOT / 'tools' / 'model_converters' / \
        'convert_distill_ckpt_to_student.py'
    spec = importlib.util.spec_from_file_location('convert_distill', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_rejects_non_distill_checkpoint(tmp_path):
    src = tmp_path / 'plain.pth'
    torch.save({'state_dict': {'backbone.w': torch.zeros(1)}}, src)
    with pytest.raises(ValueError, match="'architecture.'.*backbone"):
        _converter().convert(str(src), str(tmp_path / 'out.pth'))


def test_stop_hook_checks_arguments():
    with pytest.raises(ValueError, match='stop_epoch'):
        StopDistillHook(stop_epoch=-1)
