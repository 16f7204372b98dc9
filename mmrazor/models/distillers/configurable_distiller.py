# Copyright (c) OpenMMLab. All rights reserved.
"""A distiller wired from configs: recorders, connectors and losses."""
import contextlib
from typing import Any, Dict, Iterator, Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from mmrazor.registry import MODELS, in_mmrazor_scope

from ..task_modules import DistillDeliveryManager, RecorderManager
from ._mappings import (
    DELIVERY_SHORT_TYPES,
    RECORDER_SHORT_TYPES,
    align_pairs,
    check_finite,
    check_loss_forward_mappings,
    check_pair_shapes,
    describe_shape,
    normalize_types,
)


def _build_modules(cfgs: Optional[Dict], field: str) -> nn.ModuleDict:
    modules = nn.ModuleDict()
    for name, cfg in (cfgs or {}).items():
        if field == 'connectors' and isinstance(cfg, (list, tuple)):
            # the original's form: connectors applied one after another
            cfg = nn.Sequential(*_build_modules(
                {str(i): c for i, c in enumerate(cfg)}, field).values())
        if isinstance(cfg, dict):
            cfg = MODELS.build(in_mmrazor_scope(cfg))
        if not isinstance(cfg, nn.Module):
            raise TypeError(f'ConfigurableDistiller: {field}[{name!r}] must '
                            f'be a config dict or an nn.Module, got '
                            f'{type(cfg).__name__}.')
        modules[name] = cfg
    return modules


@MODELS.register_module(
    name=['ConfigurableDistiller', 'BYOTDistiller', 'OFDDistiller'])
class ConfigurableDistiller(BaseModule):
    """Compute distillation losses between recorded features of a student
    and a teacher, wired entirely from configs.

    The algorithm (e.g.
    :class:`mmrazor.models.algorithms.SingleTeacherDistill`) installs the
    recorders with :meth:`prepare_from_student` / :meth:`prepare_from_teacher`,
    runs each model inside ``with distiller.teacher_recorders:`` /
    ``with distiller.student_recorders:`` and then calls
    :meth:`compute_distill_losses`. For each loss, every ``forward`` argument
    is mapped to one record::

        loss_forward_mappings=dict(loss_kl=dict(
            preds_S=dict(from_student=True, recorder='fc'),
            preds_T=dict(from_student=False, recorder='fc')))

    An entry has ``recorder`` and ``from_student`` (which side's recorders),
    and optionally ``record_idx`` (which call, default 0), ``data_idx``
    (which item of a tuple record), ``connector`` (a name in
    ``connectors``, applied to the record) and ``connector_idx`` (which item
    of the connector's tuple output). The losses are returned under their
    names in ``distill_losses``, which must contain ``'loss'`` (mmengine
    sums only such log keys).

    Everything is checked when the distiller is built: each mapping names an
    existing loss, recorder (of its side) and connector, only arguments the
    loss's ``forward`` accepts, and every required one. :meth:`check_shapes`
    then checks the feature shapes with one dry forward.

    The original MMRazor's configs work as they are: short recorder and
    delivery types (``'ModuleOutputs'``, ``'MethodOutputs'``...) are looked
    up in :data:`~._mappings.RECORDER_SHORT_TYPES` and
    :data:`~._mappings.DELIVERY_SHORT_TYPES`, and a ``gt_labels`` argument
    goes to a loss's ``data_samples`` (:data:`~._mappings.LOSS_ARG_RENAMES`).
    ``'BYOTDistiller'`` and ``'OFDDistiller'`` are aliases of this class:
    what they added lives in :class:`SelfDistill` and
    :class:`OverhaulFeatureDistillation`.

    Args:
        student_recorders (dict, optional): ``{name: recorder cfg}`` on the
            student. Defaults to None.
        teacher_recorders (dict, optional): ``{name: recorder cfg}`` on the
            teacher. Defaults to None.
        distill_deliveries (dict, optional): ``{name: delivery cfg}``: the
            teacher's outputs of a function replayed in the student.
            Defaults to None.
        connectors (dict, optional): ``{name: connector cfg}``.
            Defaults to None.
        distill_losses (dict, optional): ``{name: loss cfg}``.
            Defaults to None.
        loss_forward_mappings (dict, optional): ``{loss name: {argument:
            entry}}`` as above. Defaults to None.
        detach_teacher_records (bool): Detach the teacher's records before
            use; :class:`SelfDistill` sets it, since its teacher is the
            student itself. Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> import torch
        >>> student = nn.Sequential(nn.Linear(4, 3))
        >>> teacher = nn.Sequential(nn.Linear(4, 3))
        >>> distiller = ConfigurableDistiller(
        ...     student_recorders=dict(fc=dict(type='ModuleOutputs',
        ...                                    source='0')),
        ...     teacher_recorders=dict(fc=dict(type='ModuleOutputs',
        ...                                    source='0')),
        ...     distill_losses=dict(loss_kl=dict(type='KLDivergence')),
        ...     loss_forward_mappings=dict(loss_kl=dict(
        ...         preds_S=dict(from_student=True, recorder='fc'),
        ...         preds_T=dict(from_student=False, recorder='fc'))))
        >>> distiller.prepare_from_student(student)
        >>> distiller.prepare_from_teacher(teacher)
        >>> x = torch.rand(2, 4)
        >>> with distiller.teacher_recorders:
        ...     _ = teacher(x)
        >>> with distiller.student_recorders:
        ...     _ = student(x)
        >>> sorted(distiller.compute_distill_losses())
        ['loss_kl']
    """

    def __init__(self,
                 student_recorders: Optional[Dict[str, Dict]] = None,
                 teacher_recorders: Optional[Dict[str, Dict]] = None,
                 distill_deliveries: Optional[Dict[str, Dict]] = None,
                 connectors: Optional[Dict[str, Dict]] = None,
                 distill_losses: Optional[Dict[str, Dict]] = None,
                 loss_forward_mappings: Optional[Dict[str, Dict]] = None,
                 detach_teacher_records: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.student_recorders = RecorderManager(
            normalize_types(student_recorders, RECORDER_SHORT_TYPES,
                            'student_recorders'))
        self.teacher_recorders = RecorderManager(
            normalize_types(teacher_recorders, RECORDER_SHORT_TYPES,
                            'teacher_recorders'))
        self.deliveries = DistillDeliveryManager(
            normalize_types(distill_deliveries, DELIVERY_SHORT_TYPES,
                            'distill_deliveries'))
        self.connectors = _build_modules(connectors, 'connectors')
        self.distill_losses = _build_modules(distill_losses,
                                             'distill_losses')
        for name in self.distill_losses:
            if 'loss' not in name:
                raise ValueError(
                    f'distill_losses[{name!r}]: the name must contain '
                    f"'loss' (e.g. 'loss_{name}'): mmengine's parse_losses "
                    f'sums only log keys containing it, so this loss would '
                    f'be logged but never trained.')
        self.loss_forward_mappings = check_loss_forward_mappings(
            self.distill_losses, loss_forward_mappings,
            list(self.student_recorders.recorders),
            list(self.teacher_recorders.recorders), list(self.connectors))
        self.detach_teacher_records = detach_teacher_records
        self._detached_before_connector = self._train_teacher_connectors()

    def _train_teacher_connectors(self) -> Dict[str, set]:
        """Let teacher-side connectors with parameters train.

        A loss with ``teacher_detach`` detaches its teacher argument; when
        that argument is the output of a trainable connector (the
        factor-transfer ``Paraphraser`` learns from its reconstruction
        loss), the connector would never learn. For such a loss the detach
        moves before the connectors: its teacher records are detached as
        they are read, and the loss itself no longer detaches. The teacher
        still gets no gradient from it.

        Returns:
            dict: ``{loss name: its teacher arguments}`` whose records are
            detached as they are read.
        """
        moved = {}
        for loss_name, mapping in self.loss_forward_mappings.items():
            loss = self.distill_losses[loss_name]
            teacher_args = {arg for arg, e in mapping.items()
                            if not e['from_student']}
            trainable = any(
                p.requires_grad
                for arg in teacher_args
                if mapping[arg]['connector'] is not None
                for p in self.connectors[mapping[arg]['connector']]
                .parameters())
            if trainable and getattr(loss, 'teacher_detach', False):
                loss.teacher_detach = False
                moved[loss_name] = teacher_args
        return moved

    def prepare_from_student(self, student: nn.Module) -> None:
        """Install the student recorders on ``student``."""
        self.student_recorders.initialize(student)

    def prepare_from_teacher(self, teacher: nn.Module) -> None:
        """Install the teacher recorders on ``teacher``."""
        self.teacher_recorders.initialize(teacher)

    def set_deliveries_override(self, override: bool) -> None:
        """False: deliveries record (teacher); True: they replay (student)."""
        self.deliveries.override_data = override

    def get_record(self,
                   recorder: str,
                   from_student: bool,
                   record_idx: int = 0,
                   data_idx: Optional[int] = None,
                   connector: Optional[str] = None,
                   connector_idx: Optional[int] = None,
                   _cache: Optional[Dict] = None,
                   _detach_record: bool = False) -> Any:
        """Return one mapping entry's value: the record, connected.

        Args are the keys of a mapping entry (see the class docstring);
        ``_cache`` shares connector outputs between entries of one step;
        ``_detach_record`` detaches the record before the connector.
        """
        manager = (self.student_recorders
                   if from_student else self.teacher_recorders)
        data = manager.get_record_data(recorder, record_idx, data_idx)
        if _detach_record:
            data = _detach(data)
        if connector is not None:
            key = (from_student, recorder, record_idx, data_idx, connector,
                   _detach_record)
            if _cache is not None and key in _cache:
                data = _cache[key]
            else:
                data = self.connectors[connector](data)
                if _cache is not None:
                    _cache[key] = data
        if connector_idx is not None:
            data = data[connector_idx]
        if not from_student and self.detach_teacher_records:
            data = _detach(data)
        return data

    def compute_distill_losses(self) -> Dict[str, torch.Tensor]:
        """Compute every distill loss from the current records.

        Returns:
            dict: ``{loss name: loss}`` (names as in ``distill_losses``).
        """
        cache: Dict = {}
        losses = {}
        for loss_name, mapping in self.loss_forward_mappings.items():
            detached = self._detached_before_connector.get(loss_name, ())
            kwargs = align_pairs({
                arg: self.get_record(**entry, _cache=cache,
                                     _detach_record=arg in detached)
                for arg, entry in mapping.items()})
            try:
                losses[loss_name] = self.distill_losses[loss_name](**kwargs)
            except (TypeError, AttributeError, ValueError,
                    RuntimeError) as error:
                sequences = [
                    f'{arg} (recorder {mapping[arg]["recorder"]!r} holds a '
                    f'{type(value).__name__} of {len(value)})'
                    for arg, value in kwargs.items()
                    if isinstance(value, (tuple, list))
                ]
                if not sequences:
                    raise
                raise type(error)(
                    f'Distill loss {loss_name!r} failed on '
                    f'{", ".join(sequences)}: {error}. If the recorded '
                    'module or method returns several values, pick one '
                    'with `data_idx=i` in the loss_forward_mappings entry.'
                ) from error
        return losses

    @torch.no_grad()
    def check_shapes(self, student: nn.Module, teacher: Optional[nn.Module],
                     inputs: torch.Tensor) -> None:
        """Dry-run both models on ``inputs`` and check the paired features.

        Both models run once in eval mode without gradients, in
        ``mode='tensor'``, each inside its recorders (with ``teacher=None``
        the student runs once inside both, as in self-distillation). The
        mapped records go through their connectors; each loss's
        student/teacher pairs must then fit (see
        :func:`~._mappings.check_pair_shapes`). Entries whose recorder saw
        no call in a tensor-mode forward (e.g. a loss head's inputs) are not
        checked. The outputs and records must be finite: a teacher
        whose weights hold NaN fails here, not after training. Modes and
        records are restored afterwards.

        Raises:
            ValueError: Naming the loss, the pair and both shapes, the
                connector that failed on a record, or the model output or
                record holding NaN or inf values.
        """
        models = [m for m in (student, teacher, self) if m is not None]
        self.student_recorders.reset_data()
        self.teacher_recorders.reset_data()
        try:
            with _eval_mode(*models):
                if teacher is None:
                    with self.student_recorders, self.teacher_recorders:
                        out = student(inputs, None, mode='tensor')
                    check_finite(out, "the model's output", _NAN_WEIGHTS)
                else:
                    # One after the other, as in training: a method
                    # recorder patches a class both models may share.
                    with self.teacher_recorders:
                        out = teacher(inputs, None, mode='tensor')
                    check_finite(out, "the teacher's output", _NAN_WEIGHTS)
                    with self.student_recorders:
                        out = student(inputs, None, mode='tensor')
                    check_finite(out, "the student's output", _NAN_WEIGHTS)
                self._check_finite_records()
                self._check_records()
        finally:
            self.student_recorders.reset_data()
            self.teacher_recorders.reset_data()

    def _check_finite_records(self) -> None:
        for side, manager in (('student', self.student_recorders),
                              ('teacher', self.teacher_recorders)):
            for name, recorder in manager.recorders.items():
                check_finite(recorder.data_buffer,
                             f'{side} recorder {name!r}', _NAN_WEIGHTS)

    def _check_records(self) -> None:
        cache: Dict = {}
        for loss_name, mapping in self.loss_forward_mappings.items():
            kwargs, sources = {}, {}
            for arg, entry in mapping.items():
                side = 'student' if entry['from_student'] else 'teacher'
                source = f"{side} recorder {entry['recorder']!r}"
                if entry['connector'] is not None:
                    source += f" via connector {entry['connector']!r}"
                manager = (self.student_recorders if entry['from_student']
                           else self.teacher_recorders)
                if not manager.get_recorder(entry['recorder']).data_buffer:
                    continue
                try:
                    kwargs[arg] = self.get_record(**entry, _cache=cache)
                except (RuntimeError, ValueError, IndexError,
                        TypeError) as e:
                    raw = manager.get_recorder(entry['recorder'])
                    raise ValueError(
                        f'loss {loss_name!r}, argument {arg!r}: {source} '
                        f'failed on the record of shape '
                        f'{describe_shape(raw.data_buffer[0])}: {e}') from e
                sources[arg] = source
            check_pair_shapes(loss_name, self.distill_losses[loss_name],
                              align_pairs(kwargs), sources)


_NAN_WEIGHTS = (
    'The weights are probably not finite: check the checkpoint they load '
    '(teacher_ckpt, pretrained, load_from), e.g. with '
    'all(v.isfinite().all() for v in torch.load(path)["state_dict"].values()'  # noqa: E501  # safe: text
    ' if v.is_floating_point()).')


def _detach(data: Any) -> Any:
    if isinstance(data, torch.Tensor):
        return data.detach()
    if isinstance(data, (list, tuple)):
        return type(data)(_detach(d) for d in data)
    return data


@contextlib.contextmanager
def _eval_mode(*models: nn.Module) -> Iterator[None]:
    """Put every submodule in eval mode for a block, then restore each."""
    modes = [(m, m.training) for model in models for m in model.modules()]
    for model in models:
        model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training
