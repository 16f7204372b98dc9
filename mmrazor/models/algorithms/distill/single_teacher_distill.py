# Copyright (c) OpenMMLab. All rights reserved.
"""Knowledge distillation from one teacher."""
import contextlib
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel, BaseModule
from mmengine.runner import load_checkpoint
from mmengine.structures import BaseDataElement
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.registry import MODELS, in_mmrazor_scope
from mmrazor.utils._mmengine_compat import mark_initialized

from ...distillers import ConfigurableDistiller
from ..base import BaseAlgorithm, LossResults, build_component, disable_inplace
from ._model_cfg import resolve_model_cfg


def build_distiller(distiller: Union[Dict, ConfigurableDistiller],
                    owner: str) -> ConfigurableDistiller:
    """Build ``distiller`` (``type`` defaults to ConfigurableDistiller)."""
    if isinstance(distiller, dict):
        distiller = in_mmrazor_scope(
            {'type': 'ConfigurableDistiller', **distiller})
    return build_component(distiller, ConfigurableDistiller, 'distiller',
                           owner)


def build_model(cfg, field: str, owner: str) -> BaseModel:
    """Build a model from a config, a ``cfg_path`` reference or a model,
    and load the checkpoint a ``pretrained`` reference names."""
    cfg, checkpoint = resolve_model_cfg(cfg, field, owner)
    model = build_component(cfg, BaseModel, field, owner)
    if checkpoint is not None:
        load_weights(model, checkpoint, field, owner)
    return model


def load_weights(model: nn.Module, checkpoint: str, field: str,
                 owner: str) -> None:
    """Load ``checkpoint`` into ``model`` strictly (safe local loader).

    The model is then marked initialised, so that the runner's later
    ``init_weights()`` call does not overwrite the loaded weights.
    """
    try:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    except (OSError, RuntimeError) as e:
        raise type(e)(
            f'{owner}: could not load the {field} checkpoint '
            f'{checkpoint!r}: {e}. A URL needs network access: download it '
            f'and pass the local path. The keys must be those of the '
            f'{field} model itself (convert a distillation checkpoint with '
            f'tools/model_converters/convert_distill_ckpt_to_student.py).'
        ) from e
    if isinstance(model, BaseModule):
        mark_initialized(model)


def demo_inputs(shape: Optional[Sequence[int]]) -> Optional[torch.Tensor]:
    """A random batch of ``shape`` for the dry-run shape check."""
    if shape is None:
        return None
    if not (isinstance(shape, (list, tuple)) and shape
            and all(isinstance(s, int) and s > 0 for s in shape)):
        raise ValueError(f'`demo_input_shape` must be a tuple of positive '
                         f'ints such as (1, 3, 224, 224), or None to skip '
                         f'the shape check, got {shape!r}.')
    return torch.rand(*shape)


@MODELS.register_module()
class SingleTeacherDistill(BaseAlgorithm):
    """Distil a teacher into the student (the ``architecture``).

    Hinton et al., "Distilling the Knowledge in a Neural Network", 2015
    (https://arxiv.org/abs/1503.02531), generalised to any recorded
    features: which features, connectors and losses is the
    :class:`~mmrazor.models.distillers.ConfigurableDistiller`'s config.

    One training step (:meth:`loss`):

    1. The teacher runs in ``'loss'`` mode inside the teacher recorders
       (and the deliveries, recording), under ``torch.no_grad`` unless
       ``teacher_trainable``.
    2. The student runs inside the student recorders (deliveries replay),
       in ``'loss'`` mode if ``calculate_student_loss`` else ``'tensor'``,
       under ``torch.no_grad`` unless ``student_trainable`` (so that only
       connectors train, as in factor-transfer pretraining).
    3. The losses are the student's own, prefixed ``'student.'``, the
       teacher's prefixed ``'teacher.'`` when it trains, and the distill
       losses prefixed ``'distill.'`` (``'distill.loss_kl'``..., the
       original MMRazor's keys), unless
       :class:`~mmrazor.engine.StopDistillHook` stopped distillation.

    When built, the distiller's recorders are installed and, unless
    ``demo_input_shape`` is None, both models run once on a random batch of
    that shape to check that every loss's student/teacher features fit
    (see :meth:`ConfigurableDistiller.check_shapes`): a wrong layer name or
    an unmatched feature fails here, with the names and shapes, rather
    than after training.

    Args:
        architecture (dict | BaseModel): The student: a config, a built
            model or ``dict(cfg_path='mmcls::...py', pretrained=False)``.
        distiller (dict | ConfigurableDistiller): The distiller.
        teacher (dict | BaseModel): The teacher, in the same forms.
            ``pretrained=True`` downloads the weights the package's
            metafile lists, which needs network access; offline, give
            ``teacher_ckpt``, which then takes precedence.
        teacher_ckpt (str, optional): Local path (or URL) of the teacher's
            weights, loaded strictly through mmengine's ``load_checkpoint``
            (mmrazor's safe local loader). Defaults to None.
        teacher_trainable (bool): Whether the teacher trains too.
            Defaults to False: its parameters are frozen.
        teacher_norm_eval (bool): Keep the teacher's BN layers in eval mode
            (running statistics) while training. Defaults to True.
        student_trainable (bool): Whether the student trains. Defaults to
            True.
        calculate_student_loss (bool): Whether to add the student's own
            losses. Defaults to True.
        demo_input_shape (Sequence[int], optional): Shape of the dry-run
            batch of the build-time shape check; None skips it. Defaults
            to ``(1, 3, 224, 224)``.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor
            (see :class:`~mmrazor.models.algorithms.BaseAlgorithm`).
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
        module_inplace (bool): Keep ``inplace=True`` activations in the
            student and the teacher. Defaults to False (see
            :class:`~mmrazor.models.algorithms.BaseAlgorithm`).
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 distiller: Union[ConfigurableDistiller, Dict],
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 teacher_trainable: bool = False,
                 teacher_norm_eval: bool = True,
                 student_trainable: bool = True,
                 calculate_student_loss: bool = True,
                 demo_input_shape: Optional[Sequence[int]] = (1, 3, 224,
                                                              224),
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None,
                 module_inplace: bool = False) -> None:
        name = type(self).__name__
        architecture = build_model(architecture, 'architecture', name)
        super().__init__(architecture, data_preprocessor, init_cfg,
                         module_inplace=module_inplace)
        if teacher_ckpt is not None and isinstance(teacher, dict) and \
                teacher.get('pretrained') is True:
            print_log(f'{name}: teacher_ckpt={teacher_ckpt!r} is loaded '
                      f'instead of the pretrained=True weights.',
                      logger='current')
            teacher = {**teacher, 'pretrained': False}
        self.teacher = build_model(teacher, 'teacher', name)
        if not self.module_inplace:
            disable_inplace(self.teacher)
        if teacher_ckpt is not None:
            load_weights(self.teacher, teacher_ckpt, 'teacher', name)
        self.teacher_trainable = teacher_trainable
        if not teacher_trainable:
            for param in self.teacher.parameters():
                param.requires_grad = False
        self.teacher_norm_eval = teacher_norm_eval
        self.student_trainable = student_trainable
        self.calculate_student_loss = calculate_student_loss
        self.register_buffer('distillation_stopped', torch.tensor(False))

        self.distiller = build_distiller(distiller, name)
        self.distiller.prepare_from_student(self.student)
        self.distiller.prepare_from_teacher(self.teacher)
        self.prepare_connectors()
        inputs = demo_inputs(demo_input_shape)
        if inputs is not None:
            self.distiller.check_shapes(self.student, self.teacher, inputs)

    @property
    def student(self) -> BaseModel:
        """BaseModel: The student, i.e. the ``architecture``."""
        return self.architecture

    def prepare_connectors(self) -> None:
        """Set up connectors from the built models before the shape check;
        nothing here (see :class:`OverhaulFeatureDistillation`)."""

    def stop_distillation(self) -> None:
        """Drop the distill losses from now on (saved in checkpoints)."""
        self.distillation_stopped.fill_(True)

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """Student (and teacher) losses plus the distill losses."""
        losses: Dict[str, torch.Tensor] = {}
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries, \
                _grad_unless(self.teacher_trainable):
            teacher_losses = self.teacher(inputs, data_samples, mode='loss')
        if self.teacher_trainable:
            losses.update(_prefixed(teacher_losses, 'teacher'))

        self.distiller.set_deliveries_override(True)
        mode = 'loss' if self.calculate_student_loss else 'tensor'
        with self.distiller.student_recorders, self.distiller.deliveries, \
                _grad_unless(self.student_trainable):
            student_out = self.student(inputs, data_samples, mode=mode)
        if self.calculate_student_loss:
            losses.update(_prefixed(student_out, 'student'))

        if not bool(self.distillation_stopped):
            losses.update(_prefixed(self.distiller.compute_distill_losses(),
                                    'distill'))
        # Free this batch's feature maps (and their graphs) now, not at the
        # next step: they would otherwise live through validation.
        self.distiller.student_recorders.reset_data()
        self.distiller.teacher_recorders.reset_data()
        return losses

    def train(self, mode: bool = True) -> 'SingleTeacherDistill':
        """Set the mode. A frozen teacher always stays in eval mode; a
        trainable one keeps its BN layers in eval mode with
        ``teacher_norm_eval``."""
        super().train(mode)
        if mode and not self.teacher_trainable:
            # A frozen teacher gives deterministic targets: no dropout or
            # drop-path, BN with its running statistics.
            self.teacher.eval()
        elif mode and self.teacher_norm_eval:
            for module in self.teacher.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self


def _grad_unless(trainable: bool):
    """No gradients for a frozen model; unchanged grad mode otherwise."""
    return contextlib.nullcontext() if trainable else torch.no_grad()


def _prefixed(losses: Dict[str, torch.Tensor],
              prefix: str) -> Dict[str, torch.Tensor]:
    return {f'{prefix}.{key}': value for key, value in losses.items()}
