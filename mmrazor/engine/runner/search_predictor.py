# Copyright (c) OpenMMLab. All rights reserved.
"""The metric predictor's part of the evolution search."""
import os.path as osp
import random
from typing import Any, Callable, Dict, List, Optional

from mmengine.dist import is_main_process

from mmrazor.registry import TASK_UTILS

from .utils import broadcast_list, candidate_key

Choices = Dict[str, Any]
Record = Dict[str, Any]

#: ``epoch`` of the subnets evaluated to fit the predictor.
PREDICTOR_EPOCH = -1


class SearchPredictor:
    """Fits a ``MetricPredictor`` for a search and scores subnets with it.

    The subnets it is fitted on are evaluated for real before the first
    generation: ``train_samples`` random subnets within the constraints,
    drawn from their own generator (seeded by the search's seed), so a
    resumed search draws the same ones and evaluates only those missing.
    Afterwards every new candidate is scored by the predictor; with
    ``verify_per_epoch``, the best predicted candidates of each generation
    are evaluated for real and the predictor is refitted on them before
    the next generation; at the end the ``verify_top_k`` best predicted
    ones are evaluated for real.

    Args:
        cfg (dict): The loop's ``predictor_cfg``.
        choices (dict): ``{search group: [choices]}``.
        score_key (str): The metric the loop maximises.
        seed (int): The search's seed.
    """

    def __init__(self, cfg: Dict, choices: Dict[str, List[Any]],
                 score_key: str, seed: int) -> None:
        cfg = dict(cfg)
        cfg.setdefault('type', 'mmrazor.MetricPredictor')
        cfg.update(score_key=score_key, search_groups=choices)
        self.predictor = TASK_UTILS.build(cfg)
        self.choices = choices
        self.seed = seed

    @property
    def fitted(self) -> bool:
        """Whether the predictor scores the candidates now."""
        return self.predictor.fitted

    def training_subnets(self, within: Callable[[Choices], bool],
                         max_attempts: int) -> List[Choices]:
        """The ``train_samples`` random subnets to evaluate (deterministic).
        """
        number = self.predictor.train_samples
        subnets: List[Choices] = []
        if is_main_process():
            rng = random.Random(f'metric-predictor-{self.seed}')
            seen = set()
            for _ in range(number * max_attempts):
                if len(subnets) == number:
                    break
                choices = {k: rng.choice(v) for k, v in self.choices.items()}
                key = candidate_key(choices)
                if key not in seen and within(choices):
                    seen.add(key)
                    subnets.append(choices)
        subnets = broadcast_list(subnets)
        if len(subnets) < 2:
            raise RuntimeError(
                'EvolutionSearchLoop: the predictor needs at least 2 '
                f'subnets within the constraints to fit on, found '
                f'{len(subnets)}. Widen constraints_range.')
        return subnets

    def fit(self, records: Dict[str, Record], work_dir: str,
            logger) -> None:
        """Fit on the evaluated records (or a file), and save the predictor.
        """
        predictor = self.predictor
        if predictor.handler_ckpt:
            predictor.load_checkpoint()
            logger.info('Metric predictor refitted from '
                        f'{predictor.handler_ckpt}')
            return
        if isinstance(predictor.train_samples, str):
            candidates, scores = predictor.load_train_samples()
            source = predictor.train_samples
        else:
            evaluated = [
                r for r in records.values()
                if r['epoch'] == PREDICTOR_EPOCH and not r.get('predicted')
            ]
            candidates = [r['choices'] for r in evaluated]
            scores = [r['score'] for r in evaluated]
            source = 'evaluated before the first generation'
        predictor.fit(candidates, scores)
        self.base_samples = list(predictor.samples)
        self._save(work_dir, logger, source)

    def refit(self, records: Dict[str, Record], epoch: int, work_dir: str,
              logger) -> None:
        """Refit on the first samples and every subnet evaluated in the
        generations before ``epoch`` (a function of the records, so a
        resumed search refits the same predictor)."""
        extra = [
            r for r in records.values()
            if 0 <= r['epoch'] < epoch and not r.get('predicted')
        ]
        if not extra:
            return
        self.predictor.fit(
            [c for c, _ in self.base_samples] +
            [r['choices'] for r in extra],
            [s for _, s in self.base_samples] + [r['score'] for r in extra])
        self._save(work_dir, logger,
                   f'and {len(extra)} evaluated in generations 1-{epoch}')

    def _save(self, work_dir: str, logger, source: str) -> None:
        if is_main_process():
            path = self.predictor.save_checkpoint(
                osp.join(work_dir, 'predictor'))
            logger.info(f'Metric predictor fitted on '
                        f'{len(self.predictor.samples)} subnets ({source}); '
                        f'saved to {path}')

    def score(self, candidates: List[Choices]) -> List[float]:
        """Predicted scores of the candidates."""
        return [float(s) for s in self.predictor.predict(candidates)]

    @staticmethod
    def to_verify(records: Dict[str, Record],
                  number: int,
                  epoch: Optional[int] = None) -> List[Record]:
        """The ``number`` best predicted records (of generation ``epoch``
        only, if given), by predicted score."""
        predicted = [
            r for r in records.values() if 'predicted_score' in r and (
                epoch is None or r['epoch'] == epoch)
        ]
        predicted.sort(key=lambda r: (-r['predicted_score'], r['key']))
        return predicted[:number]


def build_search_predictor(cfg: Optional[Dict], choices: Dict[str,
                                                              List[Any]],
                           score_key: str,
                           seed: int) -> Optional[SearchPredictor]:
    """A :class:`SearchPredictor`, or None without ``predictor_cfg``."""
    if cfg is None:
        return None
    if not isinstance(cfg, dict):
        raise TypeError('EvolutionSearchLoop: predictor_cfg must be a dict '
                        "such as dict(type='mmrazor.MetricPredictor', "
                        "handler_cfg=dict(type='mmrazor.GaussProcessHandler'"
                        f')), got {cfg!r}')
    return SearchPredictor(cfg, choices, score_key, seed)
