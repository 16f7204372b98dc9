# Copyright (c) OpenMMLab. All rights reserved.
"""Train loops that feed DARTS two batches per iteration."""
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from torch.utils.data import DataLoader

from mmrazor.registry import LOOPS
from mmrazor.utils.model_wrappers import unwrap_model


class _Cycle:
    """An endless iterator over a dataloader; each new pass sets the
    sampler's epoch (so shuffling differs between passes)."""

    def __init__(self, dataloader: DataLoader, epoch: int = 0) -> None:
        self.dataloader = dataloader
        self.epoch = epoch
        self._iter: Optional[Iterator] = None

    def __iter__(self) -> '_Cycle':
        return self

    def __next__(self) -> Any:
        if self._iter is None:
            self._start()
        try:
            return next(self._iter)
        except StopIteration:
            self.epoch += 1
            self._start()
            return next(self._iter)

    def _start(self) -> None:
        sampler = getattr(self.dataloader, 'sampler', None)
        if hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(self.epoch)
        self._iter = iter(self.dataloader)


class _Pairs:
    """``(weight batch, architecture batch)`` from two endless iterators."""

    def __init__(self, weights: _Cycle, arch: _Cycle) -> None:
        self.weights = weights
        self.arch = arch

    def __iter__(self) -> '_Pairs':
        return self

    def __next__(self) -> Tuple[Any, Any]:
        return next(self.weights), next(self.arch)


def _tell_progress(runner, epoch: Optional[int], iteration: int) -> None:
    """Tell the algorithm (``Darts.set_train_progress``) where training is,
    before the step: its warm-up counts the loop's epochs or iterations."""
    model = unwrap_model(runner.model)
    if hasattr(model, 'set_train_progress'):
        model.set_train_progress(epoch, iteration)


def _build(runner, dataloader: Union[DataLoader, Dict],
           owner: str) -> DataLoader:
    if isinstance(dataloader, DataLoader):
        return dataloader
    if not isinstance(dataloader, dict):
        raise TypeError(f'{owner}: `mutator_dataloader` must be a DataLoader '
                        'or a dataloader config (like train_dataloader), but '
                        f'got {type(dataloader).__name__}')
    return runner.build_dataloader(dataloader, seed=runner.seed)


@LOOPS.register_module()
class DartsEpochBasedTrainLoop(EpochBasedTrainLoop):
    """Epoch-based training with a second dataloader for the architecture.

    Each iteration hands the model ``(weight batch, architecture batch)``
    (what :meth:`mmrazor.models.algorithms.Darts.train_step` takes). An
    epoch is one pass over ``dataloader``; ``mutator_dataloader`` is cycled
    alongside it (a new pass, with a new sampler epoch, when it runs out).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Batches for the weights.
        mutator_dataloader (DataLoader | dict): Batches for the
            architecture parameters (the DARTS "validation" half).
        max_epochs (int): Training epochs.
        val_begin (int): First epoch that validates. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        dynamic_intervals (list[tuple[int, int]], optional): As mmengine's.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 mutator_dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None
                 ) -> None:
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        self.mutator_dataloader = _build(runner, mutator_dataloader,
                                         'DartsEpochBasedTrainLoop')
        self._arch_batches: Optional[_Cycle] = None

    def run_epoch(self) -> None:
        """One pass over ``dataloader``, paired with architecture batches."""
        if self._arch_batches is None:
            self._arch_batches = _Cycle(self.mutator_dataloader, self._epoch)
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        for idx, data_batch in enumerate(self.dataloader):
            _tell_progress(self.runner, self._epoch, self._iter)
            self.run_iter(idx, (data_batch, next(self._arch_batches)))
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


@LOOPS.register_module()
class DartsIterBasedTrainLoop(IterBasedTrainLoop):
    """Iteration-based training with a second dataloader for the
    architecture: each iteration gets ``(weight batch, architecture
    batch)``, both loaders cycled endlessly.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Batches for the weights.
        mutator_dataloader (DataLoader | dict): Batches for the
            architecture parameters.
        max_iters (int): Training iterations.
        val_begin (int): First iteration that validates. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1000.
        dynamic_intervals (list[tuple[int, int]], optional): As mmengine's.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 mutator_dataloader: Union[DataLoader, Dict],
                 max_iters: int,
                 val_begin: int = 1,
                 val_interval: int = 1000,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None
                 ) -> None:
        super().__init__(runner, dataloader, max_iters, val_begin,
                         val_interval, dynamic_intervals)
        self.mutator_dataloader = _build(runner, mutator_dataloader,
                                         'DartsIterBasedTrainLoop')
        # mmengine's run() draws from this iterator (and skips from it on
        # resume): it now yields pairs.
        self.dataloader_iterator = _Pairs(
            _Cycle(self.dataloader), _Cycle(self.mutator_dataloader))

    def run_iter(self, data_batch: Any) -> None:
        """One step on a (weight batch, architecture batch) pair."""
        _tell_progress(self.runner, None, self._iter)
        super().run_iter(data_batch)
