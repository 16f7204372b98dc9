# Copyright (c) OpenMMLab. All rights reserved.
"""DataFreeDistillation (ZSKT) and DAFLDataFreeDistillation on tiny CIFAR
ResNet-18s, and the two CIFAR-10 configs."""
import copy
import functools
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.models import DAFLDataFreeDistillation, DataFreeDistillation
from mmrazor.registry import MODELS

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), *['..'] * 4))
DAFL_CFG = osp.join(REPO_ROOT, 'configs', 'distill', 'mmcls', 'dafl',
                    'dafl_logits_resnet34_resnet18_8xb256_cifar10.py')
ZSKT_CFG = osp.join(REPO_ROOT, 'configs', 'distill', 'mmcls', 'zskt',
                    'zskt_backbone_logits_resnet34_resnet18_8xb16_cifar10.py')


def classifier(base):
    return dict(
        type='mmcls.ImageClassifier',
        backbone=dict(type='mmcls.ResNet_CIFAR', depth=18, base_channels=base,
                      stem_channels=base),
        neck=dict(type='mmcls.GlobalAveragePooling'),
        head=dict(type='mmcls.LinearClsHead', num_classes=10,
                  in_channels=base * 8,
                  loss=dict(type='mmcls.CrossEntropyLoss')))


def tiny_distillers(path):
    """The config's distillers, with the ResNet-34 teacher's recorder
    sources moved to the same stages of a ResNet-18 teacher."""
    distillers, student_iter = _tiny_distillers(path)
    return copy.deepcopy(distillers), student_iter


@functools.lru_cache()
def _tiny_distillers(path):
    model = Config.fromfile(path).model
    distillers = {}
    for key in ('distiller', 'generator_distiller'):
        cfg = copy.deepcopy(model[key].to_dict())
        for rec in cfg.get('teacher_recorders', {}).values():
            for old, new in (('layer1.2', 'layer1.1'), ('layer2.3',
                                                        'layer2.1'),
                             ('layer3.5', 'layer3.1'), ('layer4.2',
                                                        'layer4.1')):
                rec['source'] = rec['source'].replace(old, new)
        distillers[key] = cfg
    return distillers, model.get('student_iter', 1)


def build(cls, path, generator, teacher=None, **kwargs):
    distillers, _ = tiny_distillers(path)
    cfg = dict(
        architecture=classifier(4),
        teachers=dict(res34=dict(build_cfg=teacher or classifier(8))),
        generator=generator,
        student_iter=1,
        **distillers)
    cfg.update(kwargs)
    return cls(**cfg)


def zskt(img_size=32, **kwargs):
    return build(DataFreeDistillation, ZSKT_CFG,
                 dict(type='ZSKTGenerator', img_size=img_size, latent_dim=16,
                      hidden_channels=8), **kwargs)


def dafl(**kwargs):
    return build(DAFLDataFreeDistillation, DAFL_CFG,
                 dict(type='DAFLGenerator', img_size=32, latent_dim=16,
                      hidden_channels=8), **kwargs)


def optim_wrappers(algo):
    return OptimWrapperDict(
        architecture=OptimWrapper(
            torch.optim.SGD(algo.student.parameters(), lr=0.1)),
        generator=OptimWrapper(
            torch.optim.SGD(algo.generator.parameters(), lr=0.1)))


def real_batch(n=4):
    # labels are deliberately absent: the real batch only gives its size
    return dict(inputs=torch.randint(0, 255, (n, 3, 32, 32)).float(),
                data_samples=None)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module, params_only=True):
    names = {n for n, _ in module.named_parameters()} if params_only \
        else set(before)
    after = module.state_dict()
    return {k for k in names if not torch.equal(before[k], after[k])}


@pytest.mark.parametrize('make,expected', [
    (zskt, {'loss', 'distill.loss', 'distill.loss_s1', 'distill.loss_s2',
            'distill.loss_s3', 'distill.loss_s4', 'distill.loss_kl',
            'generator.loss', 'generator.loss_kl'}),
    (dafl, {'loss', 'distill.loss', 'distill.loss_kl', 'generator.loss',
            'generator.loss_res34_oh', 'generator.loss_res34_ie',
            'generator.loss_res34_ac'}),
])
def test_train_step_updates_student_and_generator_not_teacher(
        make, expected):
    torch.manual_seed(0)
    algo = make()
    algo.train()
    assert not algo.teachers.training
    teacher, student, gen = (snapshot(algo.teachers),
                             snapshot(algo.student), snapshot(algo.generator))
    log = algo.train_step(real_batch(), optim_wrappers(algo))

    assert set(log) == expected
    assert all(torch.isfinite(v) for v in log.values())
    # the original's keys: each total is the sum of its parts
    for side in ('distill', 'generator'):
        parts = [v for k, v in log.items()
                 if k.startswith(f'{side}.') and k != f'{side}.loss']
        torch.testing.assert_close(log[f'{side}.loss'], sum(parts))
    assert torch.equal(log['loss'], log['distill.loss'])
    assert not changed(teacher, algo.teachers, params_only=False)
    assert all(not p.requires_grad for p in algo.teachers.parameters())
    assert all(p.requires_grad for p in algo.student.parameters())
    student_changed = changed(student, algo.student)
    assert 'head.fc.weight' in student_changed
    assert 'backbone.conv1.weight' in student_changed
    assert 'linear.weight' in changed(gen, algo.generator)


def test_generator_step_does_not_leak_gradients_into_student():
    """ZSKT's generator loss runs through the student: its parameters must
    get no gradient there, else the student step would ascend it."""
    algo = zskt(img_size=16)
    algo.train()
    optim = optim_wrappers(algo)
    algo._train_generator(optim['generator'], batch_size=2)
    assert all(p.grad is None or not p.grad.any()
               for p in algo.student.parameters())
    assert all(p.grad is None for p in algo.teachers.parameters())


def test_student_iter_and_order():
    algo = zskt(img_size=16, student_iter=2, student_train_first=True)
    calls = []
    orig_student, orig_gen = algo._train_student, algo._train_generator

    def student(*args, **kwargs):
        calls.append('student')
        return orig_student(*args, **kwargs)

    def generator(*args, **kwargs):
        calls.append('generator')
        return orig_gen(*args, **kwargs)

    algo._train_student, algo._train_generator = student, generator
    wrappers = optim_wrappers(algo)
    steps = []
    arch = wrappers['architecture']
    orig_update = arch.update_params
    arch.update_params = lambda loss: (steps.append(1), orig_update(loss))
    algo.train_step(real_batch(2), wrappers)
    assert calls == ['student', 'generator']
    assert len(steps) == 2


def test_teacher_checkpoint_loaded(tmp_path):
    teacher = MODELS.build(classifier(8))
    with torch.no_grad():
        for p in teacher.parameters():
            p.fill_(0.5)
    path = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': teacher.state_dict()}, path)
    algo = DAFLDataFreeDistillation(
        architecture=classifier(4),
        teachers=dict(res34=dict(build_cfg=classifier(8), ckpt_path=path)),
        generator=dict(type='DAFLGenerator', img_size=32, latent_dim=4,
                       hidden_channels=4),
        check_shapes=False,
        **tiny_distillers(DAFL_CFG)[0])
    assert all((p == 0.5).all() for p in algo.teachers.res34.parameters())


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="OptimWrapperDict with "
                       r"\['architecture', 'generator'\]"):
        algo = dafl()
        algo.train_step(real_batch(), OptimWrapper(
            torch.optim.SGD(algo.parameters(), lr=0.1)))
    with pytest.raises(ValueError, match='build_cfg'):
        dafl(teachers=dict(res34=dict(cfg=classifier(8))))
    with pytest.raises(ValueError, match='student_iter'):
        dafl(student_iter=0)
    # a teacher recorder source that does not exist fails when built
    distillers, _ = tiny_distillers(DAFL_CFG)
    distillers['distiller']['teacher_recorders']['res34_fc']['source'] = \
        'res18.head.fc'
    with pytest.raises(Exception, match='res18'):
        DAFLDataFreeDistillation(
            architecture=classifier(4),
            teachers=dict(res34=dict(build_cfg=classifier(8))),
            generator=dict(type='DAFLGenerator', img_size=32, latent_dim=4,
                           hidden_channels=4), **distillers)


@pytest.mark.parametrize('path,cls,student_iter', [
    (DAFL_CFG, DAFLDataFreeDistillation, 1),
    (ZSKT_CFG, DataFreeDistillation, 10)])
def test_configs_build(path, cls, student_iter):
    cfg = Config.fromfile(path)
    assert cfg.model.teachers.res34.ckpt_path is None  # documented slot
    model = MODELS.build(cfg.model)
    assert type(model) is cls
    assert model.student_iter == student_iter
    assert set(model.teachers) == {'res34'}
    assert len(model.teachers.res34.backbone.layer3) == 6  # ResNet-34
    assert model.generator(batch_size=2).shape == (2, 3, 32, 32)
    assert set(cfg.optim_wrapper) >= {'architecture', 'generator'}
