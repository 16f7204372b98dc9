# Copyright (c) OpenMMLab. All rights reserved.
"""AutoSlim's greedy slimming of a trained slimmable network."""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

from mmengine.dist import is_main_process
from mmengine.evaluator import Evaluator
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mmrazor.models.task_modules.estimators import build_estimator
from mmrazor.registry import LOOPS
from mmrazor.utils._mmengine_compat import resumes
from mmrazor.utils.atomic_file import atomic_dump_yaml
from mmrazor.utils.dict_file import read_data_file
from mmrazor.utils.model_wrappers import unwrap_model

from .greedy_search_report import (
    plot_greedy_search,
    summary_lines,
    uniform_indices,
)
from .scorer import SubnetScorer
from .search_report import write_json_atomic
from .utils import candidate_key

STATE_FILE = 'greedy_search_state.json'
SUMMARY_FILE = 'greedy_search_summary.json'
PLOT_FILE = 'greedy_search.png'


@LOOPS.register_module()
class AutoSlimGreedySearchLoop(EpochBasedTrainLoop):
    """Slim a trained network one channel bin at a time to FLOPs targets.

    From the largest widths, each step tries shrinking every search group
    (a channel unit) by one of its candidate choices, scores each try on
    ``dataloader``, and keeps the try with the best score (Yu & Huang,
    AutoSlim, 2019, Sec. 3.2). When the FLOPs of the current widths fall to
    a target, they are saved as that target's subnet. Targets are met from
    the largest down, so one walk serves them all.

    Each subnet is written to ``work_dir/subnet_flops-{target}.yaml`` in the
    units format of the mutator (``{unit: {init_args, choice}}``), which
    ``channel_unit_cfg.units`` or ``SlimmableNetwork(channel_cfg_paths=...)``
    read back. The state is saved after every step; with ``--resume`` an
    interrupted search continues from its last step. Results of a finished
    search are never overwritten. A try that predicts NaN or inf, or a
    network whose tries all predict the same, stops the search with an
    error (:class:`SubnetScorer`).

    At the end, the network slimmed uniformly (every unit at the same share
    of its choices) is scored the same way, and the loop logs a summary
    table (FLOPs, params and score of the full width, of each target's
    subnet and of each uniform width), writes it to
    ``work_dir/greedy_search_summary.json`` and plots score against FLOPs
    to ``work_dir/greedy_search.png`` (with matplotlib).

    Args:
        runner (Runner): The runner; its model is an algorithm with a
            channel ``mutator`` (e.g. ``AutoSlim``).
        dataloader (DataLoader | dict): Scoring data.
        evaluator (Evaluator | dict | list): Metrics.
        target_flops (Sequence[float]): FLOPs targets in the estimator's
            FLOPs unit (MFLOPs by default).
        max_channel_bins (int, optional): When given, every unit must have
            this many candidate choices (a check of the config).
        min_channel_bins (int): A unit is not shrunk below its
            ``min_channel_bins``-th smallest choice. Defaults to 1.
        estimator_cfg (dict, optional): ``ResourceEstimator`` config; its
            ``input_shape`` must be the model's. Defaults to a 224 input.
        score_key (str): Metric to maximise. Defaults to
            ``'accuracy/top1'``.
        calibrate_sample_num (int): Training images for BN recalibration
            before each score; 0 or less disables it. Defaults to 0.
        compare_uniform (bool): Score the uniform widths for the summary
            (one evaluation per width). Defaults to True.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 target_flops: Sequence[float],
                 max_channel_bins: Optional[int] = None,
                 min_channel_bins: int = 1,
                 estimator_cfg: Optional[Dict] = None,
                 score_key: str = 'accuracy/top1',
                 calibrate_sample_num: int = 0,
                 compare_uniform: bool = True) -> None:
        super().__init__(runner, dataloader, max_epochs=1)
        if not target_flops or any(t <= 0 for t in target_flops):
            raise ValueError('AutoSlimGreedySearchLoop: `target_flops` must '
                             'be a non-empty list of positive numbers, but '
                             f'got {target_flops!r}')
        self.target_flops = sorted((float(t) for t in target_flops),
                                   reverse=True)
        self.evaluator = (
            runner.build_evaluator(evaluator)
            if isinstance(evaluator, (dict, list)) else evaluator)
        if hasattr(self.dataloader.dataset, 'metainfo'):
            self.evaluator.dataset_meta = self.dataloader.dataset.metainfo
        model = unwrap_model(runner.model)
        if not hasattr(getattr(model, 'mutator', None), 'config_template'):
            raise TypeError('AutoSlimGreedySearchLoop needs an algorithm '
                            'with a channel mutator (e.g. mmrazor.AutoSlim)'
                            f', but the model is {type(model).__name__}')
        self.model = model
        self.mutator = model.mutator
        self.choices = self.mutator.choices
        if max_channel_bins is not None:
            wrong = {k: len(v) for k, v in self.choices.items()
                     if len(v) != max_channel_bins}
            if wrong:
                raise ValueError(
                    f'AutoSlimGreedySearchLoop: max_channel_bins='
                    f'{max_channel_bins}, but these units have another '
                    f'number of choices: {dict(list(wrong.items())[:5])}')
        self.min_index = max(0, min_channel_bins - 1)
        self.estimator = build_estimator(estimator_cfg)
        self.scorer = SubnetScorer(runner, self.dataloader, self.evaluator,
                                   score_key, calibrate_sample_num,
                                   seed=runner.seed)
        self.compare_uniform = compare_uniform
        self.history: List[Dict[str, Any]] = []
        self.results: Dict[str, str] = {}
        self.start: Optional[Dict[str, float]] = None
        self.summary: Optional[Dict[str, Any]] = None
        self._scores: Dict[str, float] = {}

    @property
    def flops_unit(self) -> str:
        """``'MFLOPs'`` for the default estimator, ``'FLOPs'`` raw."""
        return f'{self.estimator.units.get("flops") or ""}FLOPs'

    def _resources(self) -> Dict[str, float]:
        """FLOPs and params of the current widths."""
        arch = getattr(self.model, 'architecture', self.model)
        resources = self.estimator.estimate(arch)
        return dict(flops=float(resources['flops']),
                    params=float(resources['params']))

    def _flops(self) -> float:
        return self._resources()['flops']

    def _score(self, indices: Dict[str, int]) -> float:
        """Score of the widths ``indices`` (each subnet scored once)."""
        key = candidate_key(
            {k: self.choices[k][i] for k, i in indices.items()})
        if key not in self._scores:
            self._set(indices)
            self._scores[key] = self.scorer.score(key)
        return self._scores[key]

    def _subnet_path(self, target: float) -> str:
        unit = self.estimator.units.get('flops') or ''
        return osp.join(self.runner.work_dir,
                        f'subnet_flops-{target:g}{unit}.yaml')

    def _state_path(self) -> str:
        return osp.join(self.runner.work_dir, STATE_FILE)

    def _check_work_dir(self) -> bool:
        """Whether to resume; refuse to overwrite a finished search."""
        state = self._state_path()
        if resumes(self.runner) and osp.isfile(state):
            return True
        existing = [p for p in [state] + [
            self._subnet_path(t) for t in self.target_flops
        ] if osp.exists(p)]
        if existing:
            raise FileExistsError(
                f'{existing[0]} exists: the work dir holds a previous greedy '
                'search. Pass --resume to continue it, or use another '
                '--work-dir; mmrazor does not overwrite it.')
        return False

    def run(self) -> None:
        """Run the greedy search and write one subnet per target.

        The loop serves as ``train_cfg`` or, as in the original MMRazor's
        search config, as ``test_cfg`` (run by ``tools/test.py``); the
        hooks of that stage are called.
        """
        stage = 'train' if self.runner.train_loop is self else 'test'
        self.runner.call_hook(f'before_{stage}')
        indices = {k: len(v) - 1 for k, v in self.choices.items()}
        if self._check_work_dir():
            state = read_data_file(self._state_path(), 'greedy search state')
            if not isinstance(state, dict) or not {
                    'indices', 'history', 'results'} <= set(state):
                raise ValueError(
                    f'greedy search state {self._state_path()!r} lacks '
                    "'indices', 'history' or 'results'; remove it to start "
                    'afresh.')
            indices, self.history = state['indices'], state['history']
            self.results = state['results']
            self.start = state.get('start')
            self.runner.logger.info(f'Resumed the greedy search at step '
                                    f'{len(self.history)}')
        if self.start is None:
            full = {k: len(v) - 1 for k, v in self.choices.items()}
            self.start = dict(self._resources_of(full),
                              score=self._score(full))
        self._set(indices)
        flops = self._flops()
        self._save_reached(flops, self.history[-1]['score']
                           if self.history else self.start['score'])
        self._save_state(indices)
        while not self._all_reached():
            step = self._step(indices)
            if step is None:
                missing = [t for t in self.target_flops
                           if str(t) not in self.results]
                raise RuntimeError(
                    'AutoSlimGreedySearchLoop: every unit is at its '
                    f'smallest allowed width ({flops:.2f} FLOPs) but the '
                    f'targets {missing} are not reached; lower '
                    'min_channel_bins or raise the targets')
            indices[step['group']] = step['index']
            self._set(indices)
            step.update(self._resources())
            flops = step['flops']
            self.history.append(step)
            self.runner.logger.info(
                f'Greedy step {len(self.history)}: {step["group"]} -> '
                f'{step["choice"]}, score {step["score"]:.2f}, '
                f'{flops:.3f} {self.flops_unit}')
            self._save_reached(flops, step['score'])
            self._save_state(indices)
        self._summarize()
        self.runner.call_hook(f'after_{stage}')

    def _resources_of(self, indices: Dict[str, int]) -> Dict[str, float]:
        self._set(indices)
        return self._resources()

    def _all_reached(self) -> bool:
        return all(str(t) in self.results for t in self.target_flops)

    def _set(self, indices: Dict[str, int]) -> None:
        self.mutator.set_choices(
            {k: self.choices[k][i] for k, i in indices.items()})

    def _step(self, indices: Dict[str, int]) -> Optional[Dict[str, Any]]:
        """Try every one-bin shrink; return the best as a history entry."""
        best = None
        for group, index in indices.items():
            if index <= self.min_index:
                continue
            trial = dict(indices, **{group: index - 1})
            score = self._score(trial)
            if best is None or score > best['score']:
                best = dict(group=group, index=index - 1,
                            choice=self.choices[group][index - 1],
                            score=score)
        self._set(indices)
        self.scorer.check_spread(type(self).__name__)
        return best

    def _save_reached(self, flops: float, score: float) -> None:
        for target in self.target_flops:
            if str(target) in self.results or flops > target:
                continue
            path = self._subnet_path(target)
            if is_main_process():
                atomic_dump_yaml(self.mutator.config_template(), path)
            self.results[str(target)] = path
            self.runner.logger.info(
                f'Target {target:g} {self.flops_unit}: reached '
                f'{flops:.3f} {self.flops_unit} (score {score:.2f}), '
                f'subnet saved to {path}')

    def _save_state(self, indices: Dict[str, int]) -> None:
        if is_main_process():
            write_json_atomic(
                dict(indices=indices, history=self.history,
                     results=self.results, start=self.start),
                self._state_path())

    def _target_rows(self) -> List[Dict[str, Any]]:
        """Per target, the first point of the walk at or below it."""
        walk = [dict(self.start, step=0)] + [
            dict(s, step=i) for i, s in enumerate(self.history, 1)]
        rows = []
        for target in self.target_flops:
            point = next(p for p in walk if p['flops'] <= target)
            rows.append(
                dict(target=target, flops=point['flops'],
                     params=point.get('params'), score=point['score'],
                     step=point['step'], subnet=self.results[str(target)]))
        return rows

    def _uniform_rows(self) -> List[Dict[str, Any]]:
        """FLOPs, params and score of every uniform width."""
        if not self.compare_uniform:
            return []
        levels = max(len(v) for v in self.choices.values())
        rows = []
        for level in range(levels, 0, -1):
            indices = uniform_indices(self.choices, level, levels,
                                      self.min_index)
            if level < levels and indices == uniform_indices(
                    self.choices, level + 1, levels, self.min_index):
                break  # min_channel_bins: narrower levels are the same
            rows.append(
                dict(width=f'{level}/{levels}',
                     **self._resources_of(indices),
                     score=self._score(indices)))
        return rows

    def _summarize(self) -> None:
        """Log the summary table, write it as JSON and plot it."""
        indices = {k: len(v) - 1 for k, v in self.choices.items()}
        self.summary = dict(
            flops_unit=self.estimator.units.get('flops') or '',
            params_unit=self.estimator.units.get('params') or '',
            score_key=self.scorer.score_key,
            steps=len(self.history),
            start=self.start,
            targets=self._target_rows(),
            uniform=self._uniform_rows())
        # After the uniform widths: every subnet this run scored.
        self.summary['scored'] = len(self._scores)
        for step in self.history:  # leave the model at the last widths
            indices[step['group']] = step['index']
        self._set(indices)
        self.runner.logger.info('\n'.join(summary_lines(self.summary)))
        if is_main_process():
            work_dir = self.runner.work_dir
            write_json_atomic(self.summary, osp.join(work_dir, SUMMARY_FILE))
            if plot_greedy_search(self.summary, self.history,
                                  osp.join(work_dir, PLOT_FILE)):
                self.runner.logger.info(
                    f'Plot of the search: {osp.join(work_dir, PLOT_FILE)}')
