# Copyright (c) OpenMMLab. All rights reserved.
"""Predicting a subnet's score from its choices, without evaluating it."""
import importlib.util
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.atomic_file import atomic_dump_json
from mmrazor.utils.dict_file import read_data_file
from mmrazor.utils.validators import check_choice

from .handler import BaseHandler

Choices = Dict[str, Any]
ENCODINGS = ('normal', 'onehot')


def _choices_of(group: Any) -> List[Any]:
    """The choices of a search group: a list of choices, or of mutables."""
    if not isinstance(group, (list, tuple)) or not group:
        raise TypeError('MetricPredictor: each search group must be a '
                        'non-empty list of choices or of mutables, got '
                        f'{group!r}')
    first = group[0]
    for attr in ('candidate_choices', 'choices'):
        if hasattr(first, attr) and not isinstance(first, (str, bytes)):
            return list(getattr(first, attr))
    return list(group)


@TASK_UTILS.register_module()
class MetricPredictor:
    """Predicts the score of a subnet from its choices.

    A predictor-assisted search (White et al., "How Powerful are Performance
    Predictors in Neural Architecture Search?", NeurIPS 2021) evaluates
    ``train_samples`` subnets for real, fits a regressor (the ``handler``)
    from their encoded choices to their scores, then ranks new subnets by
    the regressor alone. :class:`~mmrazor.engine.EvolutionSearchLoop` does
    this with ``predictor_cfg``.

    A subnet ``{group: choice}`` is encoded group by group, in the order of
    ``search_groups``: 'onehot' gives one 0/1 column per choice, 'normal'
    one column holding the choice's index. A handler that needs one
    encoding (``RBFHandler`` needs 'normal') overrides it.

    The predictor is saved as its training samples (JSON) and refitted on
    load: the handlers are seeded, so the refit is the same predictor, and
    nothing is unpickled.

    Args:
        handler_cfg (dict): Config of the handler, e.g.
            ``dict(type='mmrazor.GaussProcessHandler')``.
        search_groups (dict): ``{group: choices}`` (or ``{group:
            [mutables]}``, as the mutator's ``search_groups``). The search
            loop fills it in.
        train_samples (int | str): How many subnets the loop evaluates to
            fit the predictor, or a file of evaluated subnets: a
            ``search_state.json`` of an earlier search, or a JSON/yaml list
            of ``{choices: {...}, score: ...}``. Defaults to 2.
        handler_ckpt (str, optional): A file written by
            :meth:`save_checkpoint`; the predictor refits from it and the
            loop evaluates nothing to fit it. Defaults to None.
        encoding_type (str): 'onehot' or 'normal'. Defaults to 'onehot'.
        score_key (str): The metric predicted (set by the loop). Defaults
            to 'accuracy/top1'.
    """

    def __init__(self,
                 handler_cfg: Dict,
                 search_groups: Dict[str, Any],
                 train_samples: Union[int, str] = 2,
                 handler_ckpt: Optional[str] = None,
                 encoding_type: str = 'onehot',
                 score_key: str = 'accuracy/top1') -> None:
        for module, dist in (('sklearn', 'scikit-learn'), ('scipy', 'scipy')):
            if importlib.util.find_spec(module) is None:
                raise ImportError(
                    f'MetricPredictor needs {dist}: pip install {dist} (or '
                    'pip install "mmrazor[optional]")')
        self.handler_cfg = dict(handler_cfg)
        handler = TASK_UTILS.build(self.handler_cfg)
        if not isinstance(handler, BaseHandler):
            raise TypeError('MetricPredictor: handler_cfg must build a '
                            'handler (GaussProcessHandler, MLPHandler, '
                            f'RBFHandler, CartsHandler), got {type(handler)}')
        self.handler = handler
        check_choice(self, 'encoding_type', encoding_type, ENCODINGS)
        self.encoding_type = handler.encoding_type or encoding_type
        self.choices = {k: _choices_of(v) for k, v in search_groups.items()}
        if isinstance(train_samples, bool) or not isinstance(
                train_samples, (int, str)):
            raise TypeError('MetricPredictor: train_samples must be a number '
                            'of subnets or a file of evaluated subnets, got '
                            f'{train_samples!r}')
        if isinstance(train_samples, int) and train_samples < 2:
            raise ValueError('MetricPredictor: train_samples must be >= 2, '
                             f'got {train_samples}')
        self.train_samples = train_samples
        self.handler_ckpt = handler_ckpt
        self.score_key = score_key
        self.samples: List[Tuple[Choices, float]] = []

    @property
    def fitted(self) -> bool:
        """Whether the predictor was fitted."""
        return bool(self.samples)

    # ------------------------------------------------------------------
    # Encoding
    # ------------------------------------------------------------------
    def model2vector(self, choices: Choices) -> Dict[str, List[int]]:
        """Both encodings of a subnet: ``normal_vector`` (an index per
        group) and ``onehot_vector`` (a 0/1 column per choice)."""
        if set(choices) != set(self.choices):
            raise ValueError(
                'MetricPredictor: a subnet must give one choice per search '
                f'group {sorted(self.choices)}, but it gives '
                f'{sorted(choices)}')
        normal: List[int] = []
        onehot: List[int] = []
        for group, options in self.choices.items():
            chosen = choices[group]
            if chosen not in options:
                raise ValueError(f'MetricPredictor: choice {chosen!r} of '
                                 f'{group!r} is not one of {options}')
            index = options.index(chosen)
            normal.append(index)
            onehot.extend(int(i == index) for i in range(len(options)))
        return dict(normal_vector=normal, onehot_vector=onehot)

    def vector2model(self, vector: Sequence[float]) -> Choices:
        """The subnet an encoded vector stands for."""
        vector = np.asarray(vector).reshape(-1)
        choices, start = {}, 0
        for group, options in self.choices.items():
            if self.encoding_type == 'onehot':
                index = int(np.argmax(vector[start:start + len(options)]))
                start += len(options)
            else:
                index = int(vector[start])
                start += 1
            choices[group] = options[index]
        return choices

    def encode(self, candidates: Sequence[Choices]) -> np.ndarray:
        """The encoded subnets, ``(n, d)``."""
        key = f'{self.encoding_type}_vector'
        return np.array([self.model2vector(c)[key] for c in candidates],
                        dtype=np.float64)

    # ------------------------------------------------------------------
    # Fitting and predicting
    # ------------------------------------------------------------------
    def fit(self, candidates: Sequence[Choices],
            scores: Sequence[float]) -> None:
        """Fit the handler on evaluated subnets and their scores."""
        if len(candidates) != len(scores) or len(candidates) < 2:
            raise ValueError(
                'MetricPredictor: fit needs at least 2 subnets and one score '
                f'each; got {len(candidates)} subnets, {len(scores)} scores')
        self.handler.fit(
            self.encode(candidates), np.asarray(scores, dtype=np.float64))
        self.samples = [(dict(c), float(s))
                        for c, s in zip(candidates, scores)]

    def predict(self, candidates: Sequence[Choices]) -> np.ndarray:
        """Predicted scores ``(n,)`` of the subnets."""
        if not self.fitted:
            raise RuntimeError('MetricPredictor predicts only after fit() '
                               'or load_checkpoint()')
        if not candidates:
            return np.zeros(0)
        return self.handler.predict(self.encode(candidates))

    @staticmethod
    def get_correlation(prediction: Sequence[float],
                        label: Sequence[float]) -> List[float]:
        """``[rmse, Spearman rho, Kendall tau]`` of predictions vs labels."""
        from scipy import stats
        prediction = np.asarray(prediction, dtype=np.float64)
        label = np.asarray(label, dtype=np.float64)
        rmse = float(np.sqrt(((prediction - label)**2).mean()))
        rho = float(stats.spearmanr(prediction, label)[0])
        tau = float(stats.kendalltau(prediction, label)[0])
        return [rmse, rho, tau]

    # ------------------------------------------------------------------
    # Files
    # ------------------------------------------------------------------
    def save_checkpoint(self, path: str) -> str:
        """Write the handler config and training samples as JSON.

        Args:
            path (str): The path without suffix; ``_<handler>.json`` is
                appended, as the original appended its handler's name.

        Returns:
            str: The file written.
        """
        name = type(self.handler).__name__.lower()
        out = f'{path}_{name}.json'
        atomic_dump_json(
            dict(
                handler_cfg=self.handler_cfg,
                encoding_type=self.encoding_type,
                score_key=self.score_key,
                search_groups=self.choices,
                samples=[dict(choices=c, score=s) for c, s in self.samples]),
            out,
            indent=1)
        return out

    def load_checkpoint(self, path: Optional[str] = None) -> None:
        """Refit from a file of :meth:`save_checkpoint` (``handler_ckpt``).
        """
        path = path or self.handler_ckpt
        if path is None:
            raise ValueError('MetricPredictor.load_checkpoint needs a path '
                             '(or handler_ckpt in the config)')
        state = read_data_file(path, 'handler_ckpt')
        if not isinstance(state, dict) or 'samples' not in state:
            raise ValueError(f'handler_ckpt {path!r} is not a predictor file '
                             'written by MetricPredictor.save_checkpoint')
        saved = state.get('search_groups')
        if saved is not None and saved != json.loads(json.dumps(
                self.choices)):
            raise ValueError(
                f'handler_ckpt {path!r} was fitted on another search space '
                f'(groups {sorted(saved)}); this supernet has '
                f'{sorted(self.choices)}')
        self.fit(*load_samples(state['samples'], path))

    def load_train_samples(self) -> Tuple[List[Choices], List[float]]:
        """The evaluated subnets of the ``train_samples`` file."""
        if not isinstance(self.train_samples, str):
            raise TypeError('train_samples is a number, not a file')
        if not osp.isfile(self.train_samples):
            raise FileNotFoundError(
                f'train_samples file {self.train_samples!r} does not exist')
        data = read_data_file(self.train_samples, 'train_samples')
        if isinstance(data, dict) and 'records' in data:
            data = data['records']  # a search_state.json
        return load_samples(data, self.train_samples)


def load_samples(data: Any,
                 path: str) -> Tuple[List[Choices], List[float]]:
    """Evaluated subnets ``[{choices, score}]`` (predicted ones skipped)."""
    if not isinstance(data, list):
        raise ValueError(f'{path!r} must hold a list of evaluated subnets '
                         '{choices: {...}, score: ...}')
    candidates, scores = [], []
    for i, rec in enumerate(data):
        if not isinstance(rec, dict) or not {'choices', 'score'} <= set(rec):
            raise ValueError(f'{path!r}: entry {i} is not '
                             '{choices: {...}, score: ...}')
        if rec.get('predicted'):
            continue
        candidates.append(dict(rec['choices']))
        scores.append(float(rec['score']))
    return candidates, scores
