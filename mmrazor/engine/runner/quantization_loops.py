# Copyright (c) OpenMMLab. All rights reserved.
"""Loops of quantization: PTQ calibration, QAT, LSQ and QAT validation.

They drive an :class:`~mmrazor.models.algorithms.MMArchitectureQuant`
(also inside mmengine's DDP wrapper) through the states of its fake
quantizers: observers on while statistics are gathered, off once they are
frozen; LSQ step sizes estimated on the first batch, then learned.
"""
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import all_reduce, broadcast, is_distributed
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, TestLoop, ValLoop
from mmengine.runner.checkpoint import weights_to_cpu
from torch import nn
from torch.utils.data import DataLoader

from mmrazor.registry import LOOPS
from mmrazor.utils._mmengine_compat import randomness_cfg_of
from mmrazor.utils.atomic_file import atomic_torch_save
from mmrazor.utils.model_wrappers import unwrap_model
from mmrazor.version import __version__


def _algorithm(runner) -> nn.Module:
    """The ``MMArchitectureQuant`` inside ``runner.model``."""
    model = unwrap_model(runner.model)
    if not hasattr(model, 'quant_modules'):
        raise TypeError(
            f'quantization loops drive an MMArchitectureQuant, but the '
            f'runner model is {type(model).__name__}; set '
            "model=dict(type='mmrazor.MMArchitectureQuant', ...)")
    return model


def _set_observers(model: nn.Module, enabled: bool) -> None:
    for m in model.quant_modules():
        m.enable_observer(enabled) if hasattr(m, 'enable_observer') else None


def _set_fake_quant(model: nn.Module, enabled: bool) -> None:
    for m in model.quant_modules():
        if hasattr(m, 'enable_fake_quant'):
            m.enable_fake_quant(enabled)


def _broadcast_qparams(model: nn.Module) -> None:
    """Give every rank rank 0's observer statistics and qparams."""
    if not is_distributed():
        return
    for m in model.quant_modules():
        for tensor in list(m.buffers()) + list(m.parameters()):
            broadcast(tensor.data, src=0)


@LOOPS.register_module()
class PTQLoop(TestLoop):
    """Post-training quantization: calibrate, save, evaluate.

    1. The model in eval mode sees ``calibrate_steps`` batches of
       ``calibrate_dataloader`` with its observers (and fake quantizers) on.
    2. Observers go off; rank 0's statistics go to every rank; the
       calibrated model is saved as ``model_ptq.pth`` in the work dir (a
       plain state dict checkpoint, loadable with ``weights_only=True``).
    3. The fake-quantized model is evaluated as ``TestLoop`` does.

    A model loaded from a calibrated checkpoint (``tools/test.py CONFIG
    model_ptq.pth``) is not calibrated again; neither with ``only_val``.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Evaluation data.
        evaluator (Evaluator | dict | list): Evaluation metrics.
        calibrate_dataloader (DataLoader | dict): Calibration data.
        calibrate_steps (int): Calibration batches. Defaults to 32.
        fp16 (bool): Evaluate under autocast. Defaults to False.
        only_val (bool): Skip calibration. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 calibrate_dataloader: Union[DataLoader, Dict],
                 calibrate_steps: int = 32,
                 fp16: bool = False,
                 only_val: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        if not isinstance(calibrate_steps, int) or calibrate_steps < 1:
            raise ValueError(f'PTQLoop: calibrate_steps must be a positive '
                             f'int, got {calibrate_steps!r}')
        if isinstance(calibrate_dataloader, dict):
            diff_rank_seed = randomness_cfg_of(runner).get(
                'diff_rank_seed', False)
            calibrate_dataloader = runner.build_dataloader(
                calibrate_dataloader,
                seed=runner.seed,
                diff_rank_seed=diff_rank_seed)
        self.calibrate_dataloader = calibrate_dataloader
        self.calibrate_steps = calibrate_steps
        self.only_val = only_val

    def calibrate(self) -> int:
        """Run the calibration batches; return how many were seen."""
        model = _algorithm(self.runner)
        model.eval()
        _set_fake_quant(model, True)
        _set_observers(model, True)
        seen = 0
        print_log(f'PTQ: calibrating on up to {self.calibrate_steps} '
                  'batches', logger='current')
        with torch.no_grad():
            for data_batch in self.calibrate_dataloader:
                if seen == self.calibrate_steps:
                    break
                model.calibrate_step(data_batch)
                seen += 1
        _set_observers(model, False)
        if seen == 0:
            raise RuntimeError(
                'PTQLoop: the calibration dataloader gave no batch, so no '
                'scale was observed; give `calibrate_dataloader` a dataset '
                'with samples (and calibrate_steps >= 1)')
        _broadcast_qparams(model)
        model.calibrated.fill_(1)
        return seen

    def _save(self, model: nn.Module) -> None:
        """Write the calibrated weights and scales as plain tensors.

        Unlike ``runner.save_checkpoint`` (whose message hub holds
        mmengine ``HistoryBuffer`` objects), the file loads with
        ``torch.load(weights_only=True)`` and with ``load_from``.
        """
        meta = dict(
            mmrazor_version=__version__,
            experiment_name=str(self.runner.experiment_name),
            seed=self.runner.seed,
            time=time.strftime('%Y%m%d_%H%M%S', time.localtime()))
        atomic_torch_save(
            dict(meta=meta, state_dict=weights_to_cpu(model.state_dict())),
            osp.join(self.runner.work_dir, 'model_ptq.pth'))

    def run(self) -> dict:
        """Calibrate (unless done), save ``model_ptq.pth``, evaluate."""
        model = _algorithm(self.runner)
        if self.only_val or model.calibrated.item():
            print_log('PTQ: the model is calibrated already; evaluating it',
                      logger='current')
            _set_observers(model, False)
        else:
            seen = self.calibrate()
            self._save(model)
            print_log(
                f'PTQ: calibrated on {seen} batches; saved '
                f"{osp.join(self.runner.work_dir, 'model_ptq.pth')}",
                logger='current')
        _set_fake_quant(model, True)
        return super().run()


@LOOPS.register_module()
class QATEpochBasedLoop(EpochBasedTrainLoop):
    """Quantization-aware training, by epochs.

    Fake quantizers are on throughout. Observers update the scales until
    epoch ``disable_observer_begin`` (1-based; -1: always); batch norms of
    the quantized graph use and stop updating their running statistics
    from epoch ``freeze_bn_begin`` (-1: never). Observers are off during
    validation and in the checkpoints written after each epoch.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Training data.
        max_epochs (int): Training epochs.
        val_begin (int): First epoch to validate. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        disable_observer_begin (int): See above. Defaults to -1.
        freeze_bn_begin (int): See above. Defaults to -1.
        dynamic_intervals (list, optional): As in ``EpochBasedTrainLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 disable_observer_begin: int = -1,
                 freeze_bn_begin: int = -1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None
                 ) -> None:
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        self.disable_observer_begin = disable_observer_begin
        self.freeze_bn_begin = freeze_bn_begin

    def _from(self, begin: int) -> bool:
        return begin > 0 and self._epoch + 1 >= begin

    def prepare_for_run_epoch(self) -> None:
        """Set fake quantizers, observers and batch norms for the epoch."""
        model = _algorithm(self.runner)
        _set_fake_quant(model, True)
        _set_observers(model, not self._from(self.disable_observer_begin))
        if self._from(self.freeze_bn_begin):
            model.freeze_bn_stats()

    def prepare_for_val(self) -> None:
        """Observers off (validation and checkpoints)."""
        model = _algorithm(self.runner)
        _set_fake_quant(model, True)
        _set_observers(model, False)

    def run_epoch(self) -> None:
        """One epoch, with the fake-quantizer states above."""
        self.prepare_for_run_epoch()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        self.prepare_for_val()
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


@LOOPS.register_module()
class LSQEpochBasedLoop(QATEpochBasedLoop):
    """Learned Step Size Quantization training, by epochs.

    The first batch of the run estimates every ``LearnableFakeQuantize``
    step size from its observer (LSQ's ``2 * mean|x| / sqrt(Qp)``); on
    several ranks they are averaged. From then on the step sizes are
    parameters trained with the weights (observers off). A run resumed
    from a checkpoint keeps its learned step sizes.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Training data.
        max_epochs (int): Training epochs.
        val_begin (int): First epoch to validate. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        freeze_bn_begin (int): As in :class:`QATEpochBasedLoop`.
        dynamic_intervals (list, optional): As in ``EpochBasedTrainLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 freeze_bn_begin: int = -1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None
                 ) -> None:
        super().__init__(
            runner,
            dataloader,
            max_epochs,
            val_begin,
            val_interval,
            freeze_bn_begin=freeze_bn_begin,
            dynamic_intervals=dynamic_intervals)

    def _learnable(self) -> List[nn.Module]:
        from mmrazor.models.fake_quants import LearnableFakeQuantize
        return [
            m for m in _algorithm(self.runner).quant_modules()
            if isinstance(m, LearnableFakeQuantize)
        ]

    def prepare_for_run_epoch(self) -> None:
        """Step sizes learned; batch norms frozen from ``freeze_bn_begin``."""
        from mmrazor.models.fake_quants import enable_param_learning
        model = _algorithm(self.runner)
        if self._from(self.freeze_bn_begin):
            model.freeze_bn_stats()
        model.apply(enable_param_learning)

    def prepare_for_val(self) -> None:
        """Step sizes fixed, observers off."""
        from mmrazor.models.fake_quants import enable_val
        _algorithm(self.runner).apply(enable_val)

    def run_epoch(self) -> None:
        """One epoch; the run's first batch estimates the step sizes."""
        from mmrazor.models.fake_quants import (
            enable_param_learning,
            enable_static_estimate,
        )
        self.prepare_for_run_epoch()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        model = _algorithm(self.runner)
        for idx, data_batch in enumerate(self.dataloader):
            first = not all(m._initialized for m in self._learnable())
            if first:
                model.apply(enable_static_estimate)
            self.run_iter(idx, data_batch)
            if first:
                self._average_step_sizes()
                model.apply(enable_param_learning)
        self.prepare_for_val()
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _average_step_sizes(self) -> None:
        if not is_distributed():
            return
        for m in self._learnable():
            for p in (m.scale, m.zero_point):
                all_reduce(p.data, op='mean')


@LOOPS.register_module()
class QATValLoop(ValLoop):
    """Validate a quantized model and its float counterpart.

    The quantized graph (fake quantizers on, observers off) gives the
    ``qat.``-prefixed metrics; the float architecture, whose weights are
    the same tensors, gives the ``original.``-prefixed ones. Both go to the
    ``after_val_epoch`` hooks in one dict.

    Args are those of mmengine's ``ValLoop``.
    """

    def run(self) -> dict:
        """Evaluate both models; return the prefixed metrics."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        model = _algorithm(self.runner)
        _set_observers(model, False)
        metrics = {}
        for prefix, step in (('qat', self.runner.model.val_step),
                             ('original', self._float_step)):
            for idx, data_batch in enumerate(self.dataloader):
                self._iter(idx, data_batch, step)
            result = self.evaluator.evaluate(len(self.dataloader.dataset))
            metrics.update({f'{prefix}.{k}': v for k, v in result.items()})
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    def _float_step(self, data_batch: Dict) -> Sequence:
        model = _algorithm(self.runner)
        data = model.data_preprocessor(data_batch, False)
        return model.architecture(**data, mode='predict')

    @torch.no_grad()
    def _iter(self, idx: int, data_batch: Dict, step) -> None:
        self.runner.call_hook(
            'before_val_iter', batch_idx=idx, data_batch=data_batch)
        outputs = step(data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_val_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
