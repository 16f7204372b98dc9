# Copyright (c) OpenMMLab. All rights reserved.
"""Self-distillation: the model's deepest layers teach its shallow ones."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODELS

from ...distillers import ConfigurableDistiller
from ..base import BaseAlgorithm, LossResults
from .single_teacher_distill import build_distiller, build_model, demo_inputs


@MODELS.register_module()
class SelfDistill(BaseAlgorithm):
    """Distil a model into itself, e.g. Be Your Own Teacher (BYOT).

    Zhang et al., "Be Your Own Teacher: Improve the Performance of
    Convolutional Neural Networks via Self Distillation", ICCV 2019
    (https://arxiv.org/abs/1905.08094).

    There is no separate teacher: the distiller's ``teacher_recorders``
    record the deepest layers of the same model (e.g. ``'head.fc'``,
    ``'neck.gap'``) and its ``student_recorders`` the shallow ones, which
    connectors such as :class:`~mmrazor.models.BYOTConnector` turn into
    features and logits of shallow classifiers. One step runs the model
    once, in ``'loss'`` mode, inside both sets of recorders; the teacher
    records are detached (they are targets, not trained through the
    distill losses). The losses are the model's own, prefixed
    ``'student.'``, plus the distill losses prefixed ``'distill.'`` (the
    original MMRazor's keys).

    Args:
        architecture (dict | BaseModel): The model: a config, a built model
            or ``dict(cfg_path='mmcls::...py', pretrained=False)``.
        distiller (dict | ConfigurableDistiller): The distiller, whose
            ``teacher_recorders`` name layers of the same model.
        demo_input_shape (Sequence[int], optional): Shape of the dry-run
            batch of the build-time shape check; None skips it. Defaults
            to ``(1, 3, 224, 224)``.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 distiller: Union[ConfigurableDistiller, Dict],
                 demo_input_shape: Optional[Sequence[int]] = (1, 3, 224,
                                                              224),
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        name = type(self).__name__
        architecture = build_model(architecture, 'architecture', name)
        super().__init__(architecture, data_preprocessor, init_cfg)
        self.distiller = build_distiller(distiller, name)
        self.distiller.detach_teacher_records = True
        self.distiller.prepare_from_student(self.student)
        self.distiller.prepare_from_teacher(self.student)
        inputs = demo_inputs(demo_input_shape)
        if inputs is not None:
            self.distiller.check_shapes(self.student, None, inputs)

    @property
    def student(self) -> BaseModel:
        """BaseModel: The model, i.e. the ``architecture``."""
        return self.architecture

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """The model's own losses plus the self-distillation losses."""
        with self.distiller.student_recorders, \
                self.distiller.teacher_recorders:
            student_losses = self.student(inputs, data_samples, mode='loss')
        losses = {f'student.{k}': v for k, v in student_losses.items()}
        losses.update({
            f'distill.{k}': v
            for k, v in self.distiller.compute_distill_losses().items()
        })
        return losses
