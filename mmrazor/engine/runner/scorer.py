# Copyright (c) OpenMMLab. All rights reserved.
"""Scoring the current subnet of a supernet on validation data."""
import contextlib
import logging
import math
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from torch import Tensor
from torch.utils.data import DataLoader

from mmrazor.utils._mmengine_compat import train_dataloader_of

from .utils import calibrate_bn_statistics, candidate_seed, seeded


class SubnetScorer:
    """Evaluates whatever subnet is currently set, reproducibly.

    Before each evaluation the BN statistics can be recalibrated on
    ``calibrate_sample_num`` training images; the whole evaluation is
    seeded by the candidate's key, so scoring the same subnet twice gives
    the same number. :meth:`evaluate` is the one evaluation of a subnet:
    the search loops score through :meth:`score`, and
    :class:`~mmrazor.engine.SubnetValLoop` validates through it with its own
    per-batch step (hooks, mixed precision).

    A subnet whose predictions hold NaN or inf, or whose score is not
    finite, is refused with an error (a NaN supernet would otherwise give
    every candidate the same meaningless score); :meth:`check_spread`
    refuses a supernet whose subnets all predict the same.

    Args:
        runner (Runner): The runner (its model and train dataloader).
        dataloader (DataLoader): Validation batches.
        evaluator (Evaluator): Metrics.
        score_key (str, optional): The metric used as the score; needed by
            :meth:`score` only. Defaults to None.
        calibrate_sample_num (int): Images for BN recalibration; 0 or less
            disables it.
        calibrate_dataloader (DataLoader | dict, optional): Where those
            images come from. Defaults to the runner's train dataloader.
        seed (int): Base seed.
    """

    def __init__(self,
                 runner,
                 dataloader: DataLoader,
                 evaluator: Evaluator,
                 score_key: Optional[str] = None,
                 calibrate_sample_num: int = -1,
                 calibrate_dataloader: Optional[Union[DataLoader,
                                                      Dict]] = None,
                 seed: int = 0) -> None:
        self.runner = runner
        self.dataloader = dataloader
        self.evaluator = evaluator
        self.score_key = score_key
        self.calibrate_sample_num = calibrate_sample_num
        self._calibrate_dataloader = calibrate_dataloader
        self.seed = seed
        #: ``(score, prediction fingerprint)`` of every scored subnet.
        self.history: List[Tuple[float, float]] = []
        self.fingerprint = 0.
        self._warned_equal = False

    @property
    def calibrate_dataloader(self) -> DataLoader:
        """The dataloader of BN calibration, built on first use."""
        loader = self._calibrate_dataloader
        if loader is None:
            loader = train_dataloader_of(self.runner)
        if loader is None:
            # A search run as test_cfg (tools/test.py) has no training
            # data: recalibrate on the evaluation batches, and say so.
            print_log(
                'SubnetScorer: the runner has no train_dataloader, so BN '
                'statistics are recalibrated on the evaluation dataloader; '
                'set calibrate_dataloader to use training images',
                logger='current', level=logging.WARNING)
            loader = self.dataloader
        if isinstance(loader, dict):
            # Persistent workers would carry their random state from one
            # subnet to the next: each evaluation gets fresh workers.
            loader = self.runner.build_dataloader(
                dict(loader, persistent_workers=False), seed=self.seed)
        self._calibrate_dataloader = loader
        return loader

    @torch.no_grad()
    def evaluate(self,
                 run_batch: Callable[[int, Any], None],
                 calibrate_seed: Optional[int] = None) -> Dict[str, float]:
        """Recalibrate BN (if enabled), then evaluate the current subnet.

        Args:
            run_batch (Callable): ``run_batch(idx, data_batch)`` runs the
                model on one validation batch and feeds the evaluator.
            calibrate_seed (int, optional): Seed of the recalibration alone
                (its random augmentations); None leaves the random state as
                the caller set it. Defaults to None.

        Returns:
            dict: The evaluator's metrics.
        """
        model = self.runner.model
        if self.calibrate_sample_num > 0:
            with seeded(calibrate_seed) if calibrate_seed is not None \
                    else contextlib.nullcontext():
                calibrate_bn_statistics(model, self.calibrate_dataloader,
                                        self.calibrate_sample_num)
        model.eval()
        for idx, data_batch in enumerate(self.dataloader):
            run_batch(idx, data_batch)
        return self.evaluator.evaluate(len(self.dataloader.dataset))

    def metrics(self, key: str) -> Dict[str, float]:
        """All metrics of the current subnet; ``key`` seeds the run.

        Predictions are checked (:meth:`score` refuses NaN or infinite
        ones) and fingerprinted for :meth:`check_spread`.
        """
        model = self.runner.model
        fingerprint = [0.]

        def run_batch(idx: int, data: Any) -> None:
            outputs = model.val_step(data)
            fingerprint[0] += _check_predictions(outputs, key)
            self.evaluator.process(data_samples=outputs, data_batch=data)

        with seeded(candidate_seed(self.seed, key)):
            metrics = self.evaluate(run_batch)
        self.fingerprint = _sum_over_ranks(fingerprint[0])
        return metrics

    def score(self, key: str) -> float:
        """The ``score_key`` metric of the current subnet."""
        if self.score_key is None:
            raise ValueError('SubnetScorer.score needs a `score_key`')
        metrics = self.metrics(key)
        if self.score_key not in metrics:
            raise KeyError(
                f'score_key {self.score_key!r} is not among the metrics the '
                f'evaluator returned: {sorted(metrics)}')
        score = float(metrics[self.score_key])
        if not math.isfinite(score):
            raise FloatingPointError(
                f'The score {self.score_key}={score} of the subnet {key} is '
                f'not finite; a search cannot rank it. Check the supernet '
                f'checkpoint (load_from) and the evaluator.')
        self.history.append((score, self.fingerprint))
        return score

    def check_spread(self, loop: str) -> None:
        """Refuse a search whose subnets all predict the same.

        Called by the search loops after each generation or step, over
        every subnet this scorer has scored. If at least two were scored
        and all gave identical predictions (the sum of every predicted
        value, over all ranks, is the same), the supernet does not depend
        on the subnet (e.g. dead or zeroed weights): the ranking would be
        arbitrary, so the search stops. Equal scores with different
        predictions (a small validation set) only warn, once.

        Args:
            loop (str): The loop's name, for messages.

        Raises:
            ValueError: If every subnet predicted exactly the same.
        """
        if len(self.history) < 2:
            return
        scores = {score for score, _ in self.history}
        if len({fingerprint for _, fingerprint in self.history}) == 1:
            raise ValueError(
                f'{loop}: all {len(self.history)} subnets evaluated so far '
                f'predict exactly the same values (score {self.score_key}='
                f'{self.history[0][0]}), so the search cannot rank them: '
                f'the supernet output does not depend on the subnet. Check '
                f'the supernet checkpoint (load_from) and its training log.')
        if len(scores) == 1 and not self._warned_equal:
            self._warned_equal = True
            print_log(
                f'{loop}: all {len(self.history)} subnets evaluated so far '
                f'have the same score {self.score_key}={scores.pop()}; their '
                f'ranking is arbitrary until scores differ. A larger '
                f'validation set separates them.',
                logger='current', level=logging.WARNING)


def _sum_over_ranks(value: float) -> float:
    """``value`` summed over the ranks (itself when not distributed)."""
    if get_world_size() <= 1:
        return value
    tensor = torch.tensor(value, dtype=torch.float64)
    all_reduce(tensor)
    return float(tensor)


def _float_fields(sample: Any, prefix: str = '') -> Iterator[Tuple[str,
                                                              Tensor]]:
    """``(name, tensor)`` of the float tensor fields of a data element."""
    if isinstance(sample, Tensor):
        if sample.is_floating_point():
            yield prefix.rstrip('.') or 'output', sample
    elif isinstance(sample, BaseDataElement):
        for name, value in sample.items():
            yield from _float_fields(value, f'{prefix}{name}.')


def _check_predictions(outputs: Sequence[Any], key: str) -> float:
    """Refuse NaN or inf predictions; return the sum of their values."""
    total = 0.
    for sample in outputs:
        for field, tensor in _float_fields(sample):
            if not bool(torch.isfinite(tensor).all()):
                raise FloatingPointError(
                    f'The subnet {key} predicts NaN or infinite values '
                    f'({field}); its score would be meaningless. The '
                    f'supernet weights are probably not finite: check the '
                    f'checkpoint (load_from) and its training log.')
            total += float(tensor.double().sum())
    return total
