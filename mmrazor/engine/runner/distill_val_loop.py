# Copyright (c) OpenMMLab. All rights reserved.
"""Validation of a distillation's student and teacher."""
from typing import Dict, Sequence

import torch
from mmengine.runner import ValLoop, autocast

from mmrazor.registry import LOOPS
from mmrazor.utils._mmengine_compat import parse_val_losses
from mmrazor.utils.model_wrappers import unwrap_model


@LOOPS.register_module()
class SelfDistillValLoop(ValLoop):
    """Validate a self-distilled network (e.g. BYOT), reporting its metrics
    also under the prefix ``'student.'``, as the original MMRazor did.

    A self-distillation algorithm has no separate teacher: the network is
    validated once, as by mmengine's ``ValLoop``. Every metric appears
    twice, as it is (``'accuracy/top1'``, what our other loops report, and
    what ``save_best='auto'`` picks) and as ``'student.accuracy/top1'``
    (the original's key). Arguments are those of mmengine's ``ValLoop``.
    """

    def run(self) -> Dict[str, float]:
        """Validate; return the metrics, plain and ``student.``-prefixed."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        self.val_loss.clear()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        if self.val_loss:
            metrics.update(parse_val_losses(self.val_loss, 'val'))
        metrics.update({f'student.{k}': v for k, v in list(metrics.items())})
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics


@LOOPS.register_module()
class SingleTeacherDistillValLoop(ValLoop):
    """Validate the student, then the teacher, with the same evaluator.

    The student's metrics are reported as they are (``'accuracy/top1'``),
    the teacher's with the prefix ``'teacher.'``
    (``'teacher.accuracy/top1'``), so checkpoint selection by a metric
    keeps following the student. The teacher sees the batches as the
    algorithm's ``data_preprocessor`` prepares them, as in training.
    Hooks see the student pass only. Arguments are those of mmengine's
    ``ValLoop``.
    """

    def run(self) -> Dict[str, float]:
        """Validate student and teacher; return the merged metrics."""
        model = unwrap_model(self.runner.model)
        teacher = getattr(model, 'teacher', None)
        if not isinstance(teacher, torch.nn.Module):
            raise TypeError(
                f'SingleTeacherDistillValLoop: {type(model).__name__} has no '
                f'`teacher` module to validate; use ValLoop for it.')
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        self.val_loss.clear()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        if self.val_loss:
            metrics.update(parse_val_losses(self.val_loss, 'val'))
        for data_batch in self.dataloader:
            self.run_teacher_iter(data_batch)
        teacher_metrics = self.evaluator.evaluate(
            len(self.dataloader.dataset))
        metrics.update(
            {f'teacher.{k}': v for k, v in teacher_metrics.items()})
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    @torch.no_grad()
    def run_teacher_iter(self, data_batch: Sequence[dict]) -> None:
        """Predict one batch with the teacher and feed the evaluator."""
        model = unwrap_model(self.runner.model)
        data = model.data_preprocessor(data_batch, False)
        with autocast(enabled=self.fp16):
            outputs = model.teacher(**data, mode='predict')
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
