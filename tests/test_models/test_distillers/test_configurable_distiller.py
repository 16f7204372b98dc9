# Copyright (c) OpenMMLab. All rights reserved.
import pytest
import torch
from torch import nn

from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS


class Toy(nn.Module):
    """conv(3->c) -> pool -> fc(c->k); mmengine-style forward."""

    def __init__(self, c=4, k=5):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, k)

    def forward(self, x, data_samples=None, mode='tensor'):
        return self.fc(self.pool(self.conv(x)).flatten(1))


def kd_cfg(**override):
    cfg = dict(
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='fc'),
            conv=dict(type='ModuleOutputs', source='conv')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='fc'),
            conv=dict(type='ModuleOutputs', source='conv')),
        distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=1)),
        loss_forward_mappings=dict(loss_kl=dict(
            preds_S=dict(from_student=True, recorder='fc'),
            preds_T=dict(from_student=False, recorder='fc'))))
    cfg.update(override)
    return cfg


def test_losses_computed_with_short_types():
    distiller = ConfigurableDistiller(**kd_cfg())
    student, teacher = Toy(), Toy()
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    x = torch.rand(2, 3, 8, 8)
    with distiller.teacher_recorders:
        teacher(x)
    with distiller.student_recorders:
        student(x)
    losses = distiller.compute_distill_losses()
    assert set(losses) == {'loss_kl'} and losses['loss_kl'].requires_grad
    distiller.check_shapes(student, teacher, x)


def test_built_by_registry_and_aliases():
    for name in ('ConfigurableDistiller', 'BYOTDistiller', 'OFDDistiller'):
        d = MODELS.build(dict(type=f'mmrazor.{name}', **kd_cfg()))
        assert isinstance(d, ConfigurableDistiller)


def _mapping(**entries):
    return dict(loss_kl=entries)


S_FC = dict(from_student=True, recorder='fc')
T_FC = dict(from_student=False, recorder='fc')


@pytest.mark.parametrize('mapping, words', [
    (_mapping(preds_S=dict(from_student=True, recorder='logits'),
              preds_T=T_FC),
     ["'loss_kl'", "'preds_S'", "'logits'", "['conv', 'fc']"]),
    (_mapping(preds_S=S_FC, preds_T=dict(from_student=True,
                                         recorder='only_t')),
     ["'preds_T'", "'only_t'", 'student_recorders', 'from_student=False']),
    (_mapping(preds_S=S_FC),
     ["'loss_kl'", "['preds_T']", 'not mapped']),
    (_mapping(preds_S=S_FC, preds_T=T_FC, pred_X=S_FC),
     ["'loss_kl'", "'pred_X'", 'preds_S', 'preds_T']),
    (_mapping(preds_S=dict(S_FC, connector='align'), preds_T=T_FC),
     ["'loss_kl'", "'preds_S'", "'align'", 'connectors']),
    (_mapping(preds_S=dict(S_FC, data_index=0), preds_T=T_FC),
     ["'data_index'", 'data_idx']),
    (dict(loss_kd=dict(preds_S=S_FC, preds_T=T_FC)),
     ["'loss_kd'", "['loss_kl']"]),
])
def test_mapping_errors_at_build(mapping, words):
    teacher_recorders = dict(
        fc=dict(type='ModuleOutputs', source='fc'),
        only_t=dict(type='ModuleOutputs', source='conv'))
    with pytest.raises(ValueError) as info:
        ConfigurableDistiller(**kd_cfg(
            loss_forward_mappings=mapping,
            teacher_recorders=teacher_recorders))
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_loss_name_must_contain_loss():
    with pytest.raises(ValueError, match="'kl'.*contain 'loss'"):
        ConfigurableDistiller(**kd_cfg(
            distill_losses=dict(kl=dict(type='KLDivergence'))))


def test_unmapped_loss_is_never_computed():
    """As in the original (its factor-transfer train config keeps the
    pretrain-stage loss unmapped): built, with a warning, never run."""
    distiller = ConfigurableDistiller(**kd_cfg(distill_losses=dict(
        loss_kl=dict(type='KLDivergence'),
        loss_l2=dict(type='L2Loss'))))
    assert 'loss_l2' in distiller.distill_losses
    assert list(distiller.loss_forward_mappings) == ['loss_kl']


def test_gt_labels_goes_to_data_samples():
    distiller = ConfigurableDistiller(**kd_cfg(
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='fc'),
            labels=dict(type='ModuleInputs', source='fc')),
        distill_losses=dict(loss_dkd=dict(type='DKDLoss')),
        loss_forward_mappings=dict(loss_dkd=dict(
            preds_S=S_FC, preds_T=T_FC,
            gt_labels=dict(recorder='labels', from_student=True,
                           data_idx=0)))))
    assert set(distiller.loss_forward_mappings['loss_dkd']) == {
        'preds_S', 'preds_T', 'data_samples'}


def test_shape_mismatch_at_check_names_pair_and_shapes():
    distiller = ConfigurableDistiller(**kd_cfg())
    student, teacher = Toy(k=5), Toy(k=7)
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    with pytest.raises(ValueError) as info:
        distiller.check_shapes(student, teacher, torch.rand(1, 3, 8, 8))
    msg = str(info.value)
    for word in ("'loss_kl'", 'preds_S', 'preds_T', '(1, 5)', '(1, 7)',
                 "recorder 'fc'"):
        assert word in msg, (word, msg)
    # Modes are restored and nothing stays recorded.
    assert student.training and teacher.training
    assert not distiller.student_recorders.get_recorder('fc').data_buffer


def _feature_cfg(loss, connectors=None, s_connector=None):
    s = dict(from_student=True, recorder='conv')
    if s_connector:
        s['connector'] = s_connector
    return kd_cfg(
        connectors=connectors,
        distill_losses=dict(loss_f=loss),
        loss_forward_mappings=dict(loss_f=dict(
            s_feature=s, t_feature=dict(from_student=False,
                                        recorder='conv'))))


def _check(cfg, s_channels, t_channels):
    distiller = ConfigurableDistiller(**cfg)
    student, teacher = Toy(c=s_channels), Toy(c=t_channels)
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    distiller.check_shapes(student, teacher, torch.rand(1, 3, 8, 8))


def test_at_loss_accepts_other_channels_l2_does_not():
    _check(_feature_cfg(dict(type='ATLoss')), 4, 6)
    with pytest.raises(ValueError, match=r'\(1, 4, 8, 8\).*\(1, 6, 8, 8\)'):
        _check(_feature_cfg(dict(type='L2Loss')), 4, 6)


def test_connector_aligns_and_misspelt_alias():
    connectors = dict(align=dict(
        type='ConvModuleConncetor', in_channel=4, out_channel=6,
        norm_cfg=None, act_cfg=None))
    _check(_feature_cfg(dict(type='L2Loss'), connectors, 'align'), 4, 6)
    # A connector that cannot take the record fails with its name.
    with pytest.raises(ValueError, match="connector 'align'.*1, 5, 8, 8"):
        _check(_feature_cfg(dict(type='L2Loss'), connectors, 'align'), 5, 6)


def test_loss_declared_check_shapes_wins():

    @MODELS.register_module(force=True)
    class PickyLoss(nn.Module):

        def forward(self, s_feature, t_feature):
            return (s_feature - t_feature).sum()

        def check_shapes(self, s_feature, t_feature):
            if s_feature.size(1) > t_feature.size(1):
                raise ValueError('student wider than teacher')

    try:
        _check(_feature_cfg(dict(type='PickyLoss')), 4, 6)
        with pytest.raises(ValueError, match="'loss_f'.*wider"):
            _check(_feature_cfg(dict(type='PickyLoss')), 6, 4)
    finally:
        MODELS.module_dict.pop('PickyLoss')


class TupleToy(Toy):
    """Its ``fc`` returns (logits, features), as some heads do."""

    def __init__(self):
        super().__init__()
        fc = self.fc

        class Pair(nn.Module):

            def __init__(self):
                super().__init__()
                self.inner = fc

            def forward(self, x):
                return self.inner(x), x

        self.fc = Pair()

    def forward(self, x, data_samples=None, mode='tensor'):
        return self.fc(self.pool(self.conv(x)).flatten(1))[0]


def test_tuple_record_error_suggests_data_idx():
    distiller = ConfigurableDistiller(**kd_cfg())
    student, teacher = TupleToy(), TupleToy()
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    x = torch.rand(2, 3, 8, 8)
    with distiller.teacher_recorders:
        teacher(x)
    with distiller.student_recorders:
        student(x)
    with pytest.raises(Exception, match=r"'loss_kl'.*preds_S \(recorder "
                       r"'fc' holds a tuple of 2\).*data_idx=i"):
        distiller.compute_distill_losses()
