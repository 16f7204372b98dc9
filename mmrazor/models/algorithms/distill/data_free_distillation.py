# Copyright (c) OpenMMLab. All rights reserved.
"""Data-free distillation: a generator replaces the training images.

``DataFreeDistillation`` alternates student and generator updates, as in
ZSKT, `Zero-shot Knowledge Transfer via Adversarial Belief Matching
<https://arxiv.org/abs/1905.09768>`_ (Micaelli & Storkey, NeurIPS 2019) and
DFAD; ``DAFLDataFreeDistillation`` is DAFL, `Data-Free Learning of Student
Networks <https://arxiv.org/abs/1904.01186>`_ (Chen et al., ICCV 2019).
"""
import contextlib
import logging
from typing import Any, Dict, Iterator, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.registry import MODELS, in_mmrazor_scope

from ...architectures.generators import BaseGenerator
from ...distillers import ConfigurableDistiller
from ..base import BaseAlgorithm, build_component
from .single_teacher_distill import build_distiller, build_model, load_weights

_TEACHER_KEYS = ('build_cfg', 'ckpt_path')
_OPTIM_KEYS = ('architecture', 'generator')


class _Teachers(nn.ModuleDict):
    """The frozen teachers, by name; calling it runs each of them, so that
    recorder sources read ``'<name>.head.fc'``."""

    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'tensor') -> Dict[str, Any]:
        return {name: teacher(inputs, data_samples, mode=mode)
                for name, teacher in self.items()}


@MODELS.register_module()
class DataFreeDistillation(BaseAlgorithm):
    """Distil teachers into the student on generated images only.

    A generator turns noise into images; the student learns to match the
    teachers on them (``distiller``), and the generator learns from the
    ``generator_distiller``'s losses, e.g. ZSKT's adversarial belief
    matching (Micaelli & Storkey, NeurIPS 2019,
    https://arxiv.org/abs/1905.09768): a negative KL divergence between
    student and teacher, so that the generator seeks images on which they
    disagree. The real images of a batch are never used: only their number
    sets the batch size of the generated images.

    One :meth:`train_step` (``student_train_first=False``):

    1. Generator step: generate a batch, run the teachers (and the student,
       if the ``generator_distiller`` records it) inside the
       ``generator_distiller``'s recorders, with gradients flowing through
       the frozen teachers and the student (whose parameters get no
       gradients) to the generator; update it with the ``'generator'``
       optim wrapper.
    2. ``student_iter`` student steps: each on a new generated batch
       (detached), the teachers under ``torch.no_grad``, the
       ``distiller``'s losses; update the student with the
       ``'architecture'`` optim wrapper.

    Models run in ``mode='tensor'`` (no labels: the original MMRazor ran
    ``mode='loss'`` with the real batch's labels). Teachers are frozen and
    kept in eval mode. ``optim_wrapper`` must be an
    :class:`~mmengine.optim.OptimWrapperDict` with ``'architecture'`` (the
    student) and ``'generator'`` (e.g. built by
    ``constructor='mmrazor.SeparateOptimWrapperConstructor'``).

    Logged every iteration, under the original MMRazor's keys:
    ``'distill.loss'`` (the student's total distill loss, mean over its
    ``student_iter`` steps) and ``'distill.<loss name>'``,
    ``'generator.loss'`` and ``'generator.<loss name>'``; and ``'loss'``,
    the student's total again (mmengine's usual name of the total).

    Args:
        architecture (dict | BaseModel): The student: a config, a built
            model or ``dict(cfg_path='mmcls::...py', pretrained=False)``.
        distiller (dict | ConfigurableDistiller): Losses of the student;
            teacher recorder sources start with the teacher's name, e.g.
            ``'res34.head.fc'``.
        generator_distiller (dict | ConfigurableDistiller): Losses of the
            generator, in the same form.
        teachers (dict): ``{name: dict(build_cfg=..., ckpt_path=...)}``:
            ``build_cfg`` is a model config, a ``cfg_path`` reference or a
            built model; ``ckpt_path`` (optional) a local checkpoint loaded
            strictly, taking precedence over ``pretrained=True``. A built
            model may also be given directly as the value.
        generator (dict | BaseGenerator): The generator, e.g.
            ``dict(type='ZSKTGenerator', img_size=32, latent_dim=256,
            hidden_channels=128)``.
        student_iter (int): Student steps per train step. Defaults to 1.
        student_train_first (bool): Run the student steps before the
            generator step. Defaults to False.
        check_shapes (bool): When built, run the student and teachers once
            on a generated batch to check both distillers' feature pairs
            (see :meth:`ConfigurableDistiller.check_shapes`).
            Defaults to True.
        data_preprocessor (dict | nn.Module, optional): Preprocessor of the
            real batches (validation). Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 distiller: Union[ConfigurableDistiller, Dict],
                 generator_distiller: Union[ConfigurableDistiller, Dict],
                 teachers: Dict[str, Union[Dict, BaseModel]],
                 generator: Union[BaseGenerator, Dict],
                 student_iter: int = 1,
                 student_train_first: bool = False,
                 check_shapes: bool = True,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        name = type(self).__name__
        architecture = build_model(architecture, 'architecture', name)
        super().__init__(architecture, data_preprocessor, init_cfg)
        if not isinstance(student_iter, int) or isinstance(
                student_iter, bool) or student_iter < 1:
            raise ValueError(f'{name}: `student_iter` must be an int >= 1, '
                             f'got {student_iter!r}.')
        self.student_iter = student_iter
        self.student_train_first = student_train_first
        self.teachers = self._build_teachers(teachers)
        if isinstance(generator, dict):
            generator = MODELS.build(in_mmrazor_scope(generator))
        self.generator = build_component(generator, BaseGenerator,
                                         'generator', name)

        self.distiller = build_distiller(distiller, name)
        self.generator_distiller = build_distiller(generator_distiller, name)
        for dist in (self.distiller, self.generator_distiller):
            dist.prepare_from_student(self.student)
            dist.prepare_from_teacher(self.teachers)
        if check_shapes:
            self._check_shapes()

    @property
    def student(self) -> BaseModel:
        """BaseModel: The student, i.e. the ``architecture``."""
        return self.architecture

    def _build_teachers(self, teachers: Dict) -> _Teachers:
        name = type(self).__name__
        if not isinstance(teachers, dict) or not teachers:
            raise TypeError(
                f'{name}: `teachers` must be a non-empty dict '
                f'{{name: dict(build_cfg=..., ckpt_path=...)}}, got '
                f'{teachers!r}.')
        built = _Teachers()
        for key, cfg in teachers.items():
            field = f'teachers[{key!r}]'
            ckpt = None
            if isinstance(cfg, dict):
                extra = sorted(set(cfg) - set(_TEACHER_KEYS))
                if extra or 'build_cfg' not in cfg:
                    raise ValueError(
                        f'{name}: {field} must be dict(build_cfg=..., '
                        f'ckpt_path=...) (ckpt_path optional), got keys '
                        f'{sorted(cfg)}.')
                cfg, ckpt = cfg['build_cfg'], cfg.get('ckpt_path')
                if ckpt and isinstance(cfg, dict) and \
                        cfg.get('pretrained') is True:
                    cfg = {**cfg, 'pretrained': False}
            teacher = build_model(cfg, field, name)
            if ckpt:
                load_weights(teacher, ckpt, field, name)
            elif not (isinstance(cfg, dict) and cfg.get('pretrained')):
                print_log(
                    f'{name}: {field} has no `ckpt_path` (and no '
                    f'pretrained weights): it is randomly initialised, '
                    f'which is only useful for tests.',
                    logger='current', level=logging.WARNING)
            for param in teacher.parameters():
                param.requires_grad = False
            built[key] = teacher.eval()
        return built

    @torch.no_grad()
    def _check_shapes(self) -> None:
        """Dry-run both distillers on a small generated batch."""
        training = self.generator.training
        self.generator.eval()
        try:
            inputs = self.generator(batch_size=2)
        finally:
            self.generator.train(training)
        for dist in (self.distiller, self.generator_distiller):
            dist.check_shapes(self.student, self.teachers, inputs)

    def train(self, mode: bool = True) -> 'DataFreeDistillation':
        """Set the mode; the teachers always stay in eval mode."""
        super().train(mode)
        self.teachers.eval()
        return self

    def train_step(self, data: Union[Dict, tuple, list],
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """Alternate the generator step and the student steps.

        Args:
            data (dict | tuple | list): A real batch; only its size is used.
            optim_wrapper (OptimWrapperDict): With ``'architecture'`` and
                ``'generator'`` optim wrappers.

        Returns:
            dict: The log variables (see the class docstring).
        """
        student_optim, generator_optim = self._optim_wrappers(optim_wrapper)
        batch_size = _batch_size(data, type(self).__name__)
        log_vars: Dict[str, torch.Tensor] = {}
        if self.student_train_first:
            log_vars.update(self._train_student(student_optim, batch_size))
            log_vars.update(
                self._train_generator(generator_optim, batch_size)[0])
        else:
            log_vars.update(
                self._train_generator(generator_optim, batch_size)[0])
            log_vars.update(self._train_student(student_optim, batch_size))
        return log_vars

    def _optim_wrappers(self, optim_wrapper: Any
                        ) -> Tuple[OptimWrapper, OptimWrapper]:
        keys = list(optim_wrapper.keys()) if isinstance(
            optim_wrapper, OptimWrapperDict) else None
        if keys is None or any(k not in keys for k in _OPTIM_KEYS):
            raise TypeError(
                f'{type(self).__name__}.train_step: `optim_wrapper` must be '
                f'an OptimWrapperDict with {list(_OPTIM_KEYS)}, got '
                f'{type(optim_wrapper).__name__} with keys {keys}; in a '
                f"config, set optim_wrapper=dict(constructor='mmrazor."
                f"SeparateOptimWrapperConstructor', architecture=dict("
                f'optimizer=...), generator=dict(optimizer=...)).')
        return optim_wrapper['architecture'], optim_wrapper['generator']

    def _distill_losses(self, distiller: ConfigurableDistiller,
                        images: torch.Tensor,
                        teacher_grad: bool) -> Dict[str, torch.Tensor]:
        """Run the recorded models on ``images``; return the losses."""
        # Under a per-submodule DDP wrapper a distiller with trainable
        # parts is wrapped too: use the module inside.
        distiller = getattr(distiller, 'module', distiller)
        if distiller.teacher_recorders.recorders:
            grad = contextlib.nullcontext() if teacher_grad \
                else torch.no_grad()
            with distiller.teacher_recorders, grad:
                self.teachers(images, None, mode='tensor')
        if distiller.student_recorders.recorders:
            with distiller.student_recorders:
                self.student(images, None, mode='tensor')
        return distiller.compute_distill_losses()

    def _train_generator(self, optim_wrapper: OptimWrapper,
                         batch_size: int
                         ) -> Tuple[Dict[str, torch.Tensor], torch.Tensor]:
        """One generator update; returns its log variables and the
        generated images (detached)."""
        self.remember_buffers()  # a skipped non-finite batch restores them
        with optim_wrapper.optim_context(self.generator):
            images = self.generator(batch_size=batch_size)
            with _frozen(self.student):
                losses = self._distill_losses(self.generator_distiller,
                                              images, teacher_grad=True)
        loss, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(loss)
        return _prefixed(log_vars, 'generator'), images.detach()

    def _train_student(self,
                       optim_wrapper: OptimWrapper,
                       batch_size: int,
                       images: Optional[torch.Tensor] = None
                       ) -> Dict[str, torch.Tensor]:
        """``student_iter`` student updates, each on a new generated batch
        unless ``images`` is given; returns the mean log variables."""
        totals: Dict[str, torch.Tensor] = {}
        for _ in range(self.student_iter):
            batch = images
            if batch is None:
                with torch.no_grad():
                    batch = self.generator(batch_size=batch_size)
            self.remember_buffers()
            with optim_wrapper.optim_context(self.student):
                losses = self._distill_losses(self.distiller, batch,
                                              teacher_grad=False)
            loss, log_vars = self.parse_losses(losses)
            optim_wrapper.update_params(loss)
            for key, value in log_vars.items():
                totals[key] = totals.get(key, 0) + value
        log_vars = {key: value / self.student_iter
                    for key, value in totals.items()}
        return {'loss': log_vars['loss'], **_prefixed(log_vars, 'distill')}


@MODELS.register_module()
class DAFLDataFreeDistillation(DataFreeDistillation):
    """DAFL: train a generator on the teacher alone, then distil on its
    images.

    `Data-Free Learning of Student Networks
    <https://arxiv.org/abs/1904.01186>`_ (Chen et al., ICCV 2019). The
    teacher acts as a fixed discriminator: the generator learns images the
    teacher classifies confidently (:class:`OnehotLikeLoss`), with balanced
    classes (:class:`InformationEntropyLoss`) and strong features
    (:class:`ActivationLoss`), all in the ``generator_distiller``. The
    student then learns (``distiller``, e.g. KL divergence) on the *same*
    generated batch, detached. ``student_train_first`` is ignored; the
    student takes ``student_iter`` steps on that batch (1 in the paper).
    Arguments and logged keys are those of :class:`DataFreeDistillation`.
    """

    def train_step(self, data: Union[Dict, tuple, list],
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One generator update, then the student on the same images.

        Args:
            data (dict | tuple | list): A real batch; only its size is used.
            optim_wrapper (OptimWrapperDict): With ``'architecture'`` and
                ``'generator'`` optim wrappers.

        Returns:
            dict: The log variables.
        """
        student_optim, generator_optim = self._optim_wrappers(optim_wrapper)
        batch_size = _batch_size(data, type(self).__name__)
        log_vars, images = self._train_generator(generator_optim, batch_size)
        log_vars.update(
            self._train_student(student_optim, batch_size, images=images))
        return log_vars


@contextlib.contextmanager
def _frozen(module: nn.Module) -> Iterator[None]:
    """Build the graph without gradients for ``module``'s parameters (they
    still pass gradients to its inputs)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for param in params:
        param.requires_grad_(False)
    try:
        yield
    finally:
        for param in params:
            param.requires_grad_(True)


def _batch_size(data: Any, owner: str) -> int:
    """The number of samples in a real batch."""
    inputs = data.get('inputs') if isinstance(data, dict) else (
        data[0] if isinstance(data, (tuple, list)) and data else None)
    if isinstance(inputs, (torch.Tensor, list, tuple)) and len(inputs) > 0:
        return len(inputs)
    raise ValueError(
        f"{owner}.train_step: cannot tell the batch size: `data` must be a "
        f"dict with non-empty 'inputs' (a batch tensor or a list of "
        f'images), as mmengine dataloaders give, got '
        f'{type(data).__name__}.')


def _prefixed(losses: Dict[str, torch.Tensor],
              prefix: str) -> Dict[str, torch.Tensor]:
    return {f'{prefix}.{key}': value for key, value in losses.items()}
