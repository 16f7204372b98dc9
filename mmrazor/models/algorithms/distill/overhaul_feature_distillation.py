# Copyright (c) OpenMMLab. All rights reserved.
"""Overhaul feature distillation: margin ReLU on the teacher's BN output."""
from mmrazor.registry import MODELS

from ...architectures.connectors import OFDTeacherConnector
from .single_teacher_distill import SingleTeacherDistill


@MODELS.register_module()
class OverhaulFeatureDistillation(SingleTeacherDistill):
    """Heo et al., "A Comprehensive Overhaul of Feature Distillation",
    ICCV 2019 (https://arxiv.org/abs/1904.01866).

    A :class:`SingleTeacherDistill` whose teacher features are pre-ReLU BN
    outputs passed through an
    :class:`~mmrazor.models.OFDTeacherConnector` (margin ReLU). When built,
    before the shape check, each such connector's margin is set from the
    BN layer that its teacher recorder records
    (:meth:`OFDTeacherConnector.init_margin_from_bn`), after
    ``teacher_ckpt`` is loaded. Arguments are those of
    :class:`SingleTeacherDistill`; the distiller (``type='OFDDistiller'``
    in the original's configs is an alias of ``ConfigurableDistiller``)
    must map at least one teacher feature through an
    ``OFDTeacherConnector``, recorded with a ``ModuleOutputs`` recorder on
    an affine BN layer.
    """

    def prepare_connectors(self) -> None:
        """Set every OFD teacher connector's margin from its BN layer."""
        modules = dict(self.teacher.named_modules())
        found = False
        for loss_name, mapping in self.distiller.loss_forward_mappings.items(
        ):
            for arg, entry in mapping.items():
                name = entry['connector']
                if name is None or not isinstance(
                        self.distiller.connectors[name], OFDTeacherConnector):
                    continue
                where = (f'{type(self).__name__}: loss {loss_name!r}, '
                         f'argument {arg!r}, connector {name!r}')
                if entry['from_student']:
                    raise ValueError(f'{where}: an OFDTeacherConnector '
                                     f'needs a teacher feature '
                                     f'(from_student=False).')
                recorder = self.distiller.teacher_recorders.get_recorder(
                    entry['recorder'])
                bn = modules.get(recorder.source)
                try:
                    self.distiller.connectors[name].init_margin_from_bn(bn)
                except TypeError as e:
                    raise TypeError(
                        f'{where}: teacher recorder {entry["recorder"]!r} '
                        f'records {recorder.source!r} '
                        f'({type(bn).__name__}); the margin comes from an '
                        f'affine BN layer, so record the outputs of one. '
                        f'{e}') from e
                found = True
        if not found:
            raise ValueError(
                f'{type(self).__name__}: no teacher feature is mapped '
                f'through an OFDTeacherConnector; add one to '
                f'`distiller.connectors` and to the mapping of the '
                f'teacher feature (or use SingleTeacherDistill).')
