# Copyright (c) OpenMMLab. All rights reserved.
"""Evolutionary search of a trained supernet under resource constraints."""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from mmengine.dist import is_main_process
from mmengine.evaluator import Evaluator
from mmengine.runner import EpochBasedTrainLoop
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader

from mmrazor.registry import LOOPS
from mmrazor.structures import export_fix_subnet, save_subnet_file
from mmrazor.utils._mmengine_compat import load_from_of, resumes
from mmrazor.utils.atomic_file import atomic_dump_yaml
from mmrazor.utils.dict_file import read_data_file
from mmrazor.utils.model_wrappers import unwrap_model
from mmrazor.utils.validators import check_int

from .candidates import CandidateSampler
from .resources import SubnetResources
from .scorer import SubnetScorer
from .search_predictor import PREDICTOR_EPOCH, build_search_predictor
from .search_report import (
    plot_pareto,
    write_candidates_table,
    write_json_atomic,
)
from .utils import (
    broadcast_list,
    candidate_key,
    format_resources,
    from_json_state,
    to_json_state,
)

STATE_FILE = 'search_state.json'
OUTPUT_FILES = ('best_fix_subnet.yaml', 'search_candidates.csv',
                'search_pareto.png')


@LOOPS.register_module()
class EvolutionSearchLoop(EpochBasedTrainLoop):
    """Evolutionary search for the best subnet of a trained supernet.

    Each epoch (Guo et al., SPOS, ECCV 2020, Sec. 3.3; Real et al., 2019):

    1. the population is filled up to ``num_candidates`` with random
       subnets that satisfy ``constraints_range``;
    2. every candidate not scored before gets its BN statistics
       recalibrated on ``calibrate_sample_num`` training images and is
       evaluated on ``dataloader`` (each evaluation is seeded by the
       candidate, so it is reproducible and never repeated);
    3. the ``top_k`` best of all scored candidates are kept;
    4. the next population is ``num_mutation`` mutants and
       ``num_crossover`` children of the top-k, all within the constraints.

    The state (the population, top-k and random state at the start of the
    epoch, and every score so far) is saved as JSON in
    ``work_dir/search_state.json`` after each evaluation; with the runner's
    ``resume`` the loop replays the interrupted epoch from there, finds the
    scores already computed, and ends as an uninterrupted run would.
    At the end the loop writes ``best_fix_subnet.yaml``,
    ``search_candidates.csv`` (every evaluated candidate) and
    ``search_pareto.png`` into the work dir. Run it with ``tools/train.py``
    on a config whose ``load_from`` is the trained supernet. A subnet that
    predicts NaN or inf, or a supernet whose subnets all predict the same,
    stops the search with an error (:class:`SubnetScorer`): their ranking
    would be meaningless.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Data the candidates are scored on.
        evaluator (Evaluator | dict | list): Metrics of the scores.
        max_epochs (int): Generations. Defaults to 20.
        max_keep_ckpts (int): Kept for config compatibility; the state is
            one JSON file. Defaults to 3.
        resume_from (str, optional): A search state file to resume from.
            Defaults to None (the work dir's, if the runner resumes).
        num_candidates (int): Population size. Defaults to 50.
        top_k (int): Candidates kept each generation. Defaults to 10.
        num_mutation (int): Mutants per generation. Defaults to 25.
        num_crossover (int): Children per generation. Defaults to 25.
        mutate_prob (float): Probability that a mutant changes each search
            group. Defaults to 0.1.
        crossover_prob (float): Probability that a child takes each search
            group from its second parent. Defaults to 0.5.
        calibrate_sample_num (int): Training images used to recalibrate BN
            before each evaluation; 0 or less disables it. Defaults to -1.
        calibrate_dataloader (DataLoader | dict, optional): Where those
            images come from. Defaults to the runner's train dataloader.
        constraints_range (dict): ``{resource: (min, max)}`` in the
            estimator's units, e.g. ``dict(flops=(0., 330.))``; resources
            are ``flops``, ``params`` and ``latency``.
        estimator_cfg (dict, optional): Config of the ResourceEstimator.
            Defaults to ``dict(type='mmrazor.ResourceEstimator')``.
        score_key (str): The metric to maximise. Defaults to
            ``'accuracy/top1'``.
        init_candidates (str, optional): A JSON or yaml file with a list of
            subnets ``{group: choice}`` to start the population with.
        max_sample_attempts (int): Draws allowed per wanted candidate; when
            they run out, the epoch goes on with the candidates found (an
            error if there are none at all). Defaults to 100.
        predictor_cfg (dict, optional): A metric predictor
            (``mmrazor.MetricPredictor``): before the first generation its
            ``train_samples`` random subnets are evaluated (``epoch`` -1)
            and it is fitted on them; from then on every candidate is
            scored by the predictor instead of being evaluated. Defaults
            to None (every candidate is evaluated).
        verify_top_k (int, optional): With a predictor, how many of the
            best predicted candidates are evaluated for real after the
            last generation; the best is then the best evaluated subnet.
            0 keeps the predicted ranking. Defaults to ``top_k``.
        verify_per_epoch (int): With a predictor, how many of the best
            predicted new candidates of each generation are evaluated for
            real; the predictor is refitted on them before the next
            generation. Defaults to 0 (fitted once, as the original
            MMRazor's loop did).
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 max_epochs: int = 20,
                 max_keep_ckpts: int = 3,
                 resume_from: Optional[str] = None,
                 num_candidates: int = 50,
                 top_k: int = 10,
                 num_mutation: int = 25,
                 num_crossover: int = 25,
                 mutate_prob: float = 0.1,
                 crossover_prob: float = 0.5,
                 calibrate_sample_num: int = -1,
                 calibrate_dataloader: Optional[Union[DataLoader,
                                                      Dict]] = None,
                 constraints_range: Dict[str, Tuple[float, float]] = dict(
                     flops=(0., 330.)),
                 estimator_cfg: Optional[Dict] = None,
                 score_key: str = 'accuracy/top1',
                 init_candidates: Optional[str] = None,
                 max_sample_attempts: int = 100,
                 predictor_cfg: Optional[Dict] = None,
                 verify_top_k: Optional[int] = None,
                 verify_per_epoch: int = 0) -> None:
        check_int(self, 'max_epochs', max_epochs, low=1)
        check_int(self, 'num_candidates', num_candidates, low=1)
        check_int(self, 'max_sample_attempts', max_sample_attempts, low=1)
        super().__init__(runner, dataloader, max_epochs)
        if len(self.dataloader) == 0:
            raise ValueError(
                'EvolutionSearchLoop: the search `dataloader` yields no '
                f'batch (dataset of {len(self.dataloader.dataset)} samples); '
                'check its data root and annotation file.')
        check_int(self, 'top_k', top_k, low=1, high=num_candidates)
        for name, value in (('num_mutation', num_mutation),
                            ('num_crossover', num_crossover)):
            check_int(self, name, value, low=0)
        self.evaluator = (
            runner.build_evaluator(evaluator)
            if isinstance(evaluator, (dict, list)) else evaluator)
        if hasattr(self.dataloader.dataset, 'metainfo'):
            self.evaluator.dataset_meta = self.dataloader.dataset.metainfo
        self.num_candidates = num_candidates
        self.top_k = top_k
        self.num_mutation = num_mutation
        self.num_crossover = num_crossover
        self.score_key = score_key
        self.max_keep_ckpts = max_keep_ckpts
        self.resume_from = resume_from
        self.init_candidates = init_candidates
        self.max_sample_attempts = max_sample_attempts

        model = unwrap_model(self.runner.model)
        if not hasattr(model, 'mutator'):
            raise TypeError(
                'EvolutionSearchLoop needs an algorithm with a `mutator` '
                f'(e.g. mmrazor.SPOS), but the model is {type(model)}')
        self.model = model
        self.architecture = getattr(model, 'architecture', model)
        self.choices: Dict[str, List[Any]] = model.mutator.choices
        self.resources = SubnetResources(
            self.architecture, model.mutator, estimator_cfg,
            constraints_range)

        self.population: List[Dict[str, Any]] = []
        self.top_k_keys: List[str] = []
        self.records: Dict[str, Dict[str, Any]] = {}
        self.seed = self.runner.seed
        self.scorer = SubnetScorer(self.runner, self.dataloader,
                                   self.evaluator, score_key,
                                   calibrate_sample_num,
                                   calibrate_dataloader, self.seed)
        self.sampler = CandidateSampler(self.choices, self.seed, mutate_prob,
                                        crossover_prob)
        self.predictor = build_search_predictor(predictor_cfg, self.choices,
                                                score_key, self.seed)
        self.verify_top_k = top_k if verify_top_k is None else verify_top_k
        check_int(self, 'verify_top_k', self.verify_top_k, low=0)
        self.verify_per_epoch = check_int(self, 'verify_per_epoch',
                                          verify_per_epoch, low=0)
        self._snapshot: Dict[str, Any] = {}

    # ------------------------------------------------------------------
    # The loop
    # ------------------------------------------------------------------
    @property
    def best(self) -> Dict[str, Any]:
        """The best candidate so far: ``key``, ``choices``, ``score``,
        ``resources`` and ``epoch``."""
        if not self.top_k_keys:
            raise RuntimeError('No candidate has been scored yet')
        return self.records[self.top_k_keys[0]]

    def run(self) -> None:
        """Run the search and write its outputs."""
        self.runner.call_hook('before_train')
        self._epoch = 0
        self._iter = 0
        state_path = self.resume_from or osp.join(self.runner.work_dir,
                                                  STATE_FILE)
        if self.resume_from and not osp.isfile(self.resume_from):
            raise FileNotFoundError(
                f'resume_from {self.resume_from!r} is not a file: check the '
                'path, or remove resume_from from the loop config to start '
                'a new search.')
        if self.resume_from or resumes(self.runner):
            if osp.isfile(state_path):
                self._load_state(state_path)
            else:
                self.runner.logger.warning(
                    f'No search state at {state_path}: the search starts '
                    'from its first generation')
        else:
            existing = [
                p for p in (STATE_FILE, ) + OUTPUT_FILES
                if osp.exists(osp.join(self.runner.work_dir, p))
            ]
            if existing:
                raise FileExistsError(
                    f'The work dir {self.runner.work_dir} already holds the '
                    f'results of a search ({", ".join(existing)}). Pass '
                    '--resume to continue that search, or use another '
                    '--work-dir; mmrazor does not overwrite them.')
        if self._epoch == 0 and not self.population:
            self.population = self._initial_population()
        if self.predictor is not None:
            self._fit_predictor()
        while self._epoch < self._max_epochs:
            self.run_epoch()
        if self.predictor is not None and self.verify_top_k > 0:
            self._verify_predicted()
        self._write_outputs()
        self.runner.call_hook('after_train')

    def run_epoch(self) -> None:
        """One generation: fill, score, select, breed, save the state."""
        self.runner.call_hook('before_train_epoch')
        self._take_snapshot()
        self._fill_population()
        self._score_population()
        self.scorer.check_spread(type(self).__name__)
        ranked = sorted(self.records.values(), key=lambda r: -r['score'])
        self.top_k_keys = [r['key'] for r in ranked[:self.top_k]]
        best = self.records[self.top_k_keys[0]]
        self.runner.logger.info(
            f'Search epoch [{self._epoch + 1}/{self._max_epochs}] '
            f'best {self.score_key}: {best["score"]:.4f} '
            f'{format_resources(best["resources"])}; '
            f'{self._count_message()}')
        parents = [self.records[k]['choices'] for k in self.top_k_keys]
        children = self._breed(parents, self.num_mutation,
                               self.sampler.mutate, [])
        if len(parents) > 1:
            children += self._breed(parents, self.num_crossover,
                                    self.sampler.crossover, children)
        self.population = children[:self.num_candidates]
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
        self._take_snapshot()
        self._save_state()

    # ------------------------------------------------------------------
    # Candidates
    # ------------------------------------------------------------------
    def _initial_population(self) -> List[Dict[str, Any]]:
        if self.init_candidates is None:
            return []
        loaded = read_data_file(self.init_candidates, 'init_candidates')
        if not isinstance(loaded, list):
            raise ValueError(
                f'init_candidates file {self.init_candidates!r} must hold a '
                'list of subnets {search group: choice}')
        population = []
        for choices in loaded:
            self.sampler.check(choices)
            if self.resources.within(choices):
                population.append(dict(choices))
        return population[:self.num_candidates]

    def _fill_population(self) -> None:
        wanted = self.num_candidates - len(self.population)
        new: List[Dict[str, Any]] = []
        if is_main_process():
            # Only earlier generations' records count: a replayed
            # generation must draw what the interrupted one drew.
            keys = {
                k
                for k, r in self.records.items() if r['epoch'] < self._epoch
            } | {candidate_key(c)
                 for c in self.population}
            for _ in range(wanted * self.max_sample_attempts):
                if len(new) == wanted:
                    break
                choices = self.sampler.random()
                key = candidate_key(choices)
                if key in keys or not self.resources.within(choices):
                    continue
                keys.add(key)
                new.append(choices)
            if not new and not self.population and not self.records:
                new = None  # every rank raises below, after the broadcast
            elif len(new) < wanted:
                # A small space, or a tight budget: search what there is.
                self.runner.logger.warning(
                    f'EvolutionSearchLoop found only {len(new)} of {wanted} '
                    'new random subnets within constraints_range='
                    f'{self.resources.constraints}; the space may be nearly '
                    'exhausted. The epoch goes on with fewer candidates.')
        new = broadcast_list(new)
        if new is None:
            raise RuntimeError(
                'EvolutionSearchLoop found no random subnet within '
                f'constraints_range={self.resources.constraints} after '
                f'{wanted * self.max_sample_attempts} draws. Widen the range '
                '(in the estimator units).')
        self.population.extend(new)

    def _breed(self, parents: Sequence[Dict[str, Any]], number: int, make,
               siblings: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Make up to ``number`` new valid subnets with ``make(parents)``,
        none already scored or among ``siblings``."""
        children: List[Dict[str, Any]] = []
        if is_main_process():
            seen = set(self.records) | {candidate_key(c) for c in siblings}
            for _ in range(max(1, number) * self.max_sample_attempts):
                if len(children) >= number:
                    break
                child = make(parents)
                key = candidate_key(child)
                if key in seen or not self.resources.within(child):
                    continue
                seen.add(key)
                children.append(child)
        return broadcast_list(children)

    # ------------------------------------------------------------------
    # Scores
    # ------------------------------------------------------------------
    def _score_population(self) -> None:
        todo = list({
            candidate_key(c): c
            for c in self.population if candidate_key(c) not in self.records
        }.values())
        if self.predictor is not None and self.predictor.fitted:
            if self.verify_per_epoch and self._epoch > 0:
                self.predictor.refit(self.records, self._epoch,
                                     self.runner.work_dir, self.runner.logger)
            for choices, score in zip(todo, self.predictor.score(todo)):
                key = candidate_key(choices)
                self.records[key] = dict(
                    key=key,
                    choices=choices,
                    score=score,
                    resources=self.resources.estimate(choices),
                    epoch=self._epoch,
                    predicted=True,
                    predicted_score=score)
            self._save_state()
            if self.verify_per_epoch:
                self._verify(
                    self.predictor.to_verify(self.records,
                                             self.verify_per_epoch,
                                             self._epoch))
            return
        self._evaluate_all(todo, self._epoch)

    def _evaluate_all(self, todo: List[Dict[str, Any]], epoch: int) -> None:
        """Evaluate the candidates for real and record their scores."""
        bar = ProgressBar(len(todo)) if todo and is_main_process() else None
        for choices in todo:
            key = candidate_key(choices)
            score = self._evaluate(choices, key)
            self.records[key] = dict(
                key=key,
                choices=choices,
                score=score,
                resources=self.resources.estimate(choices),
                epoch=epoch)
            # Scores are saved as they come: a resumed run replays this
            # epoch from its snapshot and finds them, evaluating nothing
            # twice.
            self._save_state()
            if bar is not None:
                bar.update()
        if bar is not None:
            print()

    def _fit_predictor(self) -> None:
        """Evaluate the predictor's training subnets (those not evaluated
        yet), then fit it."""
        self._take_snapshot()
        if (not self.predictor.predictor.handler_ckpt
                and not isinstance(self.predictor.predictor.train_samples,
                                   str)):
            subnets = self.predictor.training_subnets(
                self.resources.within, self.max_sample_attempts)
            todo = [c for c in subnets if candidate_key(c) not in self.records]
            if todo:
                self.runner.logger.info(
                    f'Evaluating {len(todo)} random subnets to fit the metric '
                    'predictor')
            self._evaluate_all(todo, PREDICTOR_EPOCH)
        self.predictor.fit(self.records, self.runner.work_dir,
                           self.runner.logger)

    def _verify_predicted(self) -> None:
        """Evaluate the best predicted candidates; rank the evaluated."""
        self._verify(
            self.predictor.to_verify(self.records, self.verify_top_k))
        evaluated = [
            r for r in self.records.values() if not r.get('predicted')
        ]
        ranked = sorted(evaluated, key=lambda r: -r['score'])
        self.top_k_keys = [r['key'] for r in ranked[:self.top_k]]
        self.runner.logger.info(
            f'Verified the {self.verify_top_k} best predicted candidates; '
            f'{self._count_message()}')

    def _verify(self, records: List[Dict[str, Any]]) -> None:
        """Evaluate predicted records for real (scores saved as they come).
        """
        for rec in records:
            if rec.get('predicted'):
                rec['score'] = self._evaluate(rec['choices'], rec['key'])
                rec['predicted'] = False
                self._save_state()

    def _count_message(self) -> str:
        predicted = sum(1 for r in self.records.values() if r.get('predicted'))
        return (f'{len(self.records) - predicted} candidates evaluated'
                + (f', {predicted} predicted' if self.predictor else '')
                + ' so far')

    def _evaluate(self, choices: Dict[str, Any], key: str) -> float:
        """Score one candidate; seeded by the candidate, so reproducible."""
        self.model.mutator.set_choices(choices)
        return self.scorer.score(key)

    # ------------------------------------------------------------------
    # State and outputs
    # ------------------------------------------------------------------
    def _take_snapshot(self) -> None:
        """Remember the state at the start of the current epoch."""
        self._snapshot = dict(
            seed=self.seed,
            load_from=load_from_of(self.runner),
            epoch=self._epoch,
            population=[dict(c) for c in self.population],
            top_k_keys=list(self.top_k_keys),
            rng_state=to_json_state(self.sampler.rng.getstate()))

    def _save_state(self) -> None:
        """Save the epoch-start snapshot and every score so far (JSON)."""
        if not is_main_process():
            return
        write_json_atomic(
            dict(self._snapshot, records=list(self.records.values())),
            osp.join(self.runner.work_dir, STATE_FILE))

    def _load_state(self, path: str) -> None:
        state = read_data_file(path, 'search state')
        keys = {'seed', 'load_from', 'epoch', 'population', 'top_k_keys',
                'records', 'rng_state'}
        missing = sorted(keys - set(state)) if isinstance(
            state, dict) else sorted(keys)
        if missing:
            raise ValueError(
                f'search state file {path!r} lacks {missing}: it was not '
                'written by this search loop. Remove it to start afresh.')
        self.seed = int(state['seed'])
        self.scorer.seed = self.seed
        if load_from_of(self.runner) is None and state['load_from']:
            # `--resume` without a path loads no weights: use the supernet
            # checkpoint the interrupted search ran on.
            self.runner.load_checkpoint(state['load_from'])
        elif state['load_from'] and load_from_of(self.runner) != state[
                'load_from']:
            self.runner.logger.warning(
                f'The interrupted search ran on {state["load_from"]}; this '
                f'run loaded {load_from_of(self.runner)}')
        self._epoch = int(state['epoch'])
        self._iter = self._epoch * len(self.dataloader)
        self.population = state['population']
        self.top_k_keys = state['top_k_keys']
        self.records = {r['key']: r for r in state['records']}
        self.sampler.rng.setstate(from_json_state(state['rng_state']))
        self.runner.logger.info(
            f'Resumed the search from {path}: epoch {self._epoch}, '
            f'{len(self.records)} candidates already evaluated')

    def _write_outputs(self) -> None:
        best = self.records[self.top_k_keys[0]]
        self.model.mutator.set_choices(best['choices'])
        if not is_main_process():
            return
        work_dir = self.runner.work_dir
        subnet_path = osp.join(work_dir, OUTPUT_FILES[0])
        if hasattr(self.model.mutator, 'config_template'):
            # channel units: the units format the channel mutator reads
            atomic_dump_yaml(self.model.mutator.config_template(),
                             subnet_path)
        else:
            save_subnet_file(
                export_fix_subnet(self.architecture), subnet_path,
                overwrite=True)
        write_candidates_table(
            list(self.records.values()), osp.join(work_dir, OUTPUT_FILES[1]))
        resource = next(iter(self.resources.constraints), 'flops')
        plot_pareto(
            list(self.records.values()),
            osp.join(work_dir, OUTPUT_FILES[2]),
            best_key=best['key'],
            resource=resource,
            score_key=self.score_key,
            budget=self.resources.constraints.get(resource),
            unit=self.resources.estimator.units.get(resource))
        self.runner.logger.info(
            f'Search finished. Best {self.score_key}: {best["score"]:.4f} '
            f'{format_resources(best["resources"])}; subnet saved to '
            f'{subnet_path}')
