# Copyright (c) OpenMMLab. All rights reserved.
"""Scoring the current subnet of a supernet on validation data."""
from typing import Dict, Optional, Union

import torch
from mmengine.evaluator import Evaluator
from torch.utils.data import DataLoader

from .utils import calibrate_bn_statistics, candidate_seed, seeded


class SubnetScorer:
    """Evaluates whatever subnet is currently set, reproducibly.

    Before each evaluation the BN statistics can be recalibrated on
    ``calibrate_sample_num`` training images; the whole evaluation is
    seeded by the candidate's key, so scoring the same subnet twice gives
    the same number.

    Args:
        runner (Runner): The runner (its model and train dataloader).
        dataloader (DataLoader): Validation batches.
        evaluator (Evaluator): Metrics.
        score_key (str): The metric used as the score.
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
                 score_key: str,
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

    @property
    def calibrate_dataloader(self) -> DataLoader:
        """The dataloader of BN calibration, built on first use."""
        loader = self._calibrate_dataloader
        if loader is None:
            loader = self.runner._train_dataloader
        if isinstance(loader, dict):
            # Persistent workers would carry their random state from one
            # candidate to the next: each candidate gets fresh workers.
            loader = self.runner.build_dataloader(
                dict(loader, persistent_workers=False), seed=self.seed)
        self._calibrate_dataloader = loader
        return loader

    @torch.no_grad()
    def metrics(self, key: str) -> Dict[str, float]:
        """All metrics of the current subnet; ``key`` seeds the run."""
        model = self.runner.model
        with seeded(candidate_seed(self.seed, key)):
            if self.calibrate_sample_num > 0:
                calibrate_bn_statistics(model, self.calibrate_dataloader,
                                        self.calibrate_sample_num)
            model.eval()
            for data in self.dataloader:
                outputs = model.val_step(data)
                self.evaluator.process(
                    data_samples=outputs, data_batch=data)
            return self.evaluator.evaluate(len(self.dataloader.dataset))

    def score(self, key: str) -> float:
        """The ``score_key`` metric of the current subnet."""
        metrics = self.metrics(key)
        if self.score_key not in metrics:
            raise KeyError(
                f'score_key {self.score_key!r} is not among the metrics the '
                f'evaluator returned: {sorted(metrics)}')
        return float(metrics[self.score_key])
