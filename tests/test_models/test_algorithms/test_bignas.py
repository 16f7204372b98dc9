# Copyright (c) OpenMMLab. All rights reserved.
"""BigNAS: sandwich rule with in-place distillation on a tiny space."""
import copy

import pytest
import torch
from mmcls.structures import ClsDataSample
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper

from mmrazor.models import BigNAS, MBBlock
from mmrazor.registry import MODEL_WRAPPERS, MODELS

TINY_ARCH = dict(
    kernel_size=[[3, 5, 2]] * 3,
    num_blocks=[[1, 2, 1]] * 3,
    expand_ratio=[[1, 1, 1], [2, 3, 1], [2, 3, 1], [2, 3, 1]],
    num_out_channels=[[8, 16, 8], [8, 16, 8], [16, 24, 8], [24, 32, 8],
                      [32, 48, 16]])

SUPERNET = dict(
    _scope_='mmrazor',
    type='SearchableImageClassifier',
    data_preprocessor=dict(
        type='mmcls.ClsDataPreprocessor', mean=[128.] * 3, std=[64.] * 3),
    backbone=dict(
        type='AttentiveMobileNetV3',
        arch_setting=TINY_ARCH,
        stride_list=[1, 2, 2],
        with_se_list=[False, True, True],
        act_cfg_list=['Swish'] * 5,
        out_indices=(3, ),
        norm_cfg=dict(type='DynamicBatchNorm2d', momentum=0.0)),
    neck=dict(type='SqueezeMeanPoolingWithDropout', drop_ratio=0.),
    head=dict(type='DynamicLinearClsHead', num_classes=10, in_channels=48),
    input_resizer_cfg=dict(
        input_resizer=dict(type='DynamicInputResizer'),
        mutable_shape=dict(
            type='OneShotMutableValue', value_list=[[24, 24], [32, 32]])),
    connect_head=dict(connect_with_backbone='backbone.last_mutable_channels'))


# Small forwards run faster on one thread on a shared CPU.
pytestmark = pytest.mark.usefixtures('one_thread')


def build(**kwargs) -> BigNAS:
    torch.manual_seed(0)
    cfg = dict(type='mmrazor.BigNAS', architecture=copy.deepcopy(SUPERNET),
               backbone_dropout_stages=(2, 3))
    cfg.update(kwargs)
    algo = MODELS.build(cfg)
    algo.init_weights()
    return algo


def batch(n: int = 8) -> dict:
    gen = torch.Generator().manual_seed(0)
    return dict(
        inputs=[
            torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8,
                          generator=gen) for _ in range(n)
        ],
        data_samples=[ClsDataSample().set_gt_label(i % 10)
                      for i in range(n)])


class CountingSGD(torch.optim.SGD):
    """SGD that counts its steps."""

    steps = 0

    def step(self, closure=None):
        self.steps += 1
        return super().step(closure)


def test_train_step_sandwich_one_update_and_loss_decreases():
    algo = build()
    algo.train()
    optim = CountingSGD(algo.parameters(), lr=0.1, momentum=0.9)
    wrapper = OptimWrapper(optim)
    data = batch()
    first = None
    for step in range(1, 7):
        before = {n: p.detach().clone()
                  for n, p in algo.named_parameters()}
        log = algo.train_step(data, wrapper)
        assert sorted(log) == [
            'loss', 'max_subnet.loss', 'min_subnet.loss_kl',
            'random_subnet_0.loss_kl', 'random_subnet_1.loss_kl'
        ]
        assert optim.steps == step  # one optimizer step per train_step
        changed = [n for n, p in algo.named_parameters()
                   if not torch.equal(p, before[n])]
        assert 'architecture.head.fc.weight' in changed
        first = first if first is not None else log['max_subnet.loss']
    assert log['max_subnet.loss'] < first
    # the largest subnet is set again after a step
    assert algo.mutator.current_choices == algo.mutator.sample_choices('max')


def test_subnets_and_drop_path_of_a_step(monkeypatch):
    """Order max, random..., min; drop path for the largest only; the
    teacher logits reach the students detached."""
    algo = build(num_random_samples=1, drop_path_rate=0.5)
    algo.train()
    seen = []
    arch = algo.architecture
    blocks = [b for b in arch.backbone.modules() if isinstance(b, MBBlock)]
    forward = type(arch).forward

    def spy(self, inputs, data_samples=None, mode='tensor'):
        rates = [b.drop_path_rate for b in blocks]
        seen.append((mode, dict(algo.mutator.current_choices), rates))
        return forward(self, inputs, data_samples, mode)

    monkeypatch.setattr(type(arch), 'forward', spy)
    teacher_grads = []
    compute = algo.distiller.compute_distill_losses

    def compute_spy():
        record = algo.distiller.get_record('fc', from_student=False)
        teacher_grads.append(record.requires_grad)
        return compute()

    monkeypatch.setattr(algo.distiller, 'compute_distill_losses',
                        compute_spy)
    inputs = torch.randn(4, 3, 32, 32)
    samples = [ClsDataSample().set_gt_label(i) for i in range(4)]
    losses = algo(inputs, samples, mode='loss')
    assert [mode for mode, _, _ in seen] == ['loss', 'tensor', 'tensor']
    assert seen[0][1] == algo.mutator.sample_choices('max')
    assert seen[2][1] == algo.mutator.sample_choices('min')
    assert any(rate > 0 for rate in seen[0][2])
    # stages 2 and 3 only: the first stage's blocks keep 0
    assert seen[0][2][:2] == [0., 0.]
    assert all(rate == 0 for _, _, rates in seen[1:] for rate in rates)
    assert all(b.drop_path_rate == 0 for b in blocks)
    # the students learn from detached teacher logits
    assert teacher_grads == [False, False]
    assert losses['min_subnet.loss_kl'].requires_grad
    assert losses['max_subnet.loss'].requires_grad
    # records are freed after the step
    record = algo.distiller.teacher_recorders.get_recorder('fc')
    assert record.data_buffer == []


def test_distiller_default_and_custom():
    algo = build(drop_path_rate=0.)
    assert list(algo.distiller.distill_losses) == ['loss_kl']
    assert algo.distiller.detach_teacher_records
    custom = build(distiller=dict(
        type='ConfigurableDistiller',
        teacher_recorders=dict(fc=dict(type='ModuleOutputs',
                                       source='head.fc')),
        student_recorders=dict(fc=dict(type='ModuleOutputs',
                                       source='head.fc')),
        distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=2)),
        loss_forward_mappings=dict(loss_kd=dict(
            preds_S=dict(recorder='fc', from_student=True),
            preds_T=dict(recorder='fc', from_student=False)))),
        num_random_samples=0)
    losses = custom(torch.randn(2, 3, 32, 32),
                    [ClsDataSample().set_gt_label(1)] * 2, mode='loss')
    assert sorted(losses) == ['max_subnet.loss', 'min_subnet.loss_kd']


def test_errors():
    with pytest.raises(ValueError, match='`num_random_samples` must be'):
        build(num_random_samples=-1)
    with pytest.raises(ValueError, match='`drop_path_rate` must be in'):
        build(drop_path_rate=1.5)
    plain = dict(
        _scope_='mmcls',
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=512))
    with pytest.raises(ValueError, match='set drop_path_rate=0'):
        build(architecture=plain)
    with pytest.raises(TypeError, match='`mutator` must be'):
        build(mutator=torch.nn.Identity())


def test_ddp_wrapper_alias():
    assert MODEL_WRAPPERS.get('BigNASDDP') is MMDistributedDataParallel
