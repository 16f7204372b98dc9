# Copyright (c) OpenMMLab. All rights reserved.
"""AutoSlim's greedy slimming of a trained slimmable network."""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

from mmengine.dist import is_main_process
from mmengine.evaluator import Evaluator
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mmrazor.registry import LOOPS, TASK_UTILS
from mmrazor.utils.atomic_file import atomic_dump_yaml
from mmrazor.utils.dict_file import read_data_file

from .scorer import SubnetScorer
from .search_report import write_json_atomic
from .utils import candidate_key, unwrap

STATE_FILE = 'greedy_search_state.json'


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
                 calibrate_sample_num: int = 0) -> None:
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
        model = unwrap(runner.model)
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
        self.estimator = TASK_UTILS.build(
            dict(estimator_cfg or dict(type='mmrazor.ResourceEstimator')))
        self.scorer = SubnetScorer(runner, self.dataloader, self.evaluator,
                                   score_key, calibrate_sample_num,
                                   seed=runner.seed)
        self.history: List[Dict[str, Any]] = []
        self.results: Dict[str, str] = {}

    def _flops(self) -> float:
        arch = getattr(self.model, 'architecture', self.model)
        return float(self.estimator.estimate(arch)['flops'])

    def _subnet_path(self, target: float) -> str:
        unit = self.estimator.units.get('flops') or ''
        return osp.join(self.runner.work_dir,
                        f'subnet_flops-{target:g}{unit}.yaml')

    def _state_path(self) -> str:
        return osp.join(self.runner.work_dir, STATE_FILE)

    def _check_work_dir(self) -> bool:
        """Whether to resume; refuse to overwrite a finished search."""
        state = self._state_path()
        if getattr(self.runner, '_resume', False) and osp.isfile(state):
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
            self.runner.logger.info(f'Resumed the greedy search at step '
                                    f'{len(self.history)}')
        self._set(indices)
        flops = self._flops()
        self._save_reached(flops)
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
            flops = self._flops()
            step['flops'] = flops
            self.history.append(step)
            self.runner.logger.info(
                f'Greedy step {len(self.history)}: {step["group"]} -> '
                f'{step["choice"]}, score {step["score"]:.4f}, flops '
                f'{flops:.3f}')
            self._save_reached(flops)
            self._save_state(indices)
        self.runner.call_hook(f'after_{stage}')

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
            self._set(trial)
            score = self.scorer.score(candidate_key(
                {k: self.choices[k][i] for k, i in trial.items()}))
            if best is None or score > best['score']:
                best = dict(group=group, index=index - 1,
                            choice=self.choices[group][index - 1],
                            score=score)
        self._set(indices)
        self.scorer.check_spread(type(self).__name__)
        return best

    def _save_reached(self, flops: float) -> None:
        for target in self.target_flops:
            if str(target) in self.results or flops > target:
                continue
            path = self._subnet_path(target)
            if is_main_process():
                atomic_dump_yaml(self.mutator.config_template(), path)
            self.results[str(target)] = path
            self.runner.logger.info(
                f'Target {target:g}: {flops:.3f} FLOPs, subnet saved to '
                f'{path}')

    def _save_state(self, indices: Dict[str, int]) -> None:
        if is_main_process():
            write_json_atomic(
                dict(indices=indices, history=self.history,
                     results=self.results), self._state_path())
