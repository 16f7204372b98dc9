# Copyright (c) OpenMMLab. All rights reserved.
"""Regressors behind :class:`MetricPredictor`, on scikit-learn and scipy.

Each handler maps encoded subnets ``(n, d)`` to scores ``(n,)``. They are
seeded, so fitting the same samples twice gives the same predictor (a
resumed search relies on it), and they are rebuilt from their training
samples instead of being pickled (see :class:`MetricPredictor`).
"""
import warnings
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional

import numpy as np

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.validators import check_choice


def _as_2d(data: np.ndarray) -> np.ndarray:
    data = np.asarray(data, dtype=np.float64)
    return data[None, :] if data.ndim == 1 else data


class BaseHandler(metaclass=ABCMeta):
    """A regressor of subnet scores: ``fit`` then ``predict``."""

    #: The encoding the handler needs, or None to follow the predictor's.
    encoding_type: Optional[str] = None

    @abstractmethod
    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Fit the regressor on encoded subnets and their scores."""

    @abstractmethod
    def predict(self, test_data: np.ndarray) -> np.ndarray:
        """Predicted scores ``(n,)`` of encoded subnets ``(n, d)``."""


@TASK_UTILS.register_module()
class GaussProcessHandler(BaseHandler):
    """Gaussian-process (Kriging) regression of the score.

    Universal Kriging as in DACE (Lophaven et al., 2002): a polynomial trend
    ``regr`` fitted by ridge regression, plus a zero-mean Gaussian process
    on its residuals with the isotropic correlation ``corr``, whose length
    scale, amplitude and noise level are fitted by maximum likelihood
    (scikit-learn's ``GaussianProcessRegressor``). Inputs and targets are
    standardised first.

    Args:
        regr (str): The trend: 'constant', 'linear' or 'quadratic'.
            Defaults to 'linear'.
        corr (str): The correlation: 'gauss' (squared exponential) or 'exp'
            (absolute exponential, Matern 1/2). Defaults to 'gauss'.
        seed (int): Seed of the likelihood optimiser. Defaults to 0.
    """

    _DEGREES = {'constant': 0, 'linear': 1, 'quadratic': 2}
    _CORRS = {'gauss': 'RBF', 'exp': 'Matern'}

    def __init__(self,
                 regr: str = 'linear',
                 corr: str = 'gauss',
                 seed: int = 0) -> None:
        check_choice('GaussProcessHandler', 'regr', regr, self._DEGREES)
        check_choice('GaussProcessHandler', 'corr', corr, self._CORRS)
        self.regr = regr
        self.corr = corr
        self.seed = seed
        self.model = None

    def _build(self):
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import (
            RBF,
            ConstantKernel,
            Matern,
            WhiteKernel,
        )
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import PolynomialFeatures, StandardScaler
        if self.corr == 'gauss':
            corr = RBF(length_scale=1.0, length_scale_bounds=(1e-2, 1e3))
        else:
            corr = Matern(
                length_scale=1.0, length_scale_bounds=(1e-2, 1e3), nu=0.5)
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * corr + WhiteKernel(
            1e-2, (1e-6, 1e1))
        degree = self._DEGREES[self.regr]
        trend = make_pipeline(
            PolynomialFeatures(degree, include_bias=False),
            Ridge(alpha=1.0)) if degree else None
        gp = GaussianProcessRegressor(
            kernel, normalize_y=True, random_state=self.seed)
        return StandardScaler(), trend, gp

    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Fit the trend, then the process on its residuals."""
        scaler, trend, gp = self._build()
        data = scaler.fit_transform(_as_2d(train_data))
        label = np.asarray(train_label, dtype=np.float64)
        residual = label
        if trend is not None:
            trend.fit(data, label)
            residual = label - trend.predict(data)
        with warnings.catch_warnings():
            # Bounds reached on tiny sample sets: the fit is still usable.
            warnings.simplefilter('ignore')
            gp.fit(data, residual)
        self.model = (scaler, trend, gp)

    def predict(self, test_data: np.ndarray) -> np.ndarray:
        """Trend plus the process's posterior mean."""
        scaler, trend, gp = _fitted(self)
        data = scaler.transform(_as_2d(test_data))
        pred = gp.predict(data)
        if trend is not None:
            pred = pred + trend.predict(data)
        return np.asarray(pred, dtype=np.float64).reshape(-1)


@TASK_UTILS.register_module()
class MLPHandler(BaseHandler):
    """A multi-layer perceptron regressing the (standardised) score.

    scikit-learn's ``MLPRegressor`` trained full-batch with Adam; a
    ``1 - data_split_ratio`` share of the samples is held out and the
    weights of the best held-out loss are kept.

    Args:
        epochs (int): Training epochs. Defaults to 100.
        data_split_ratio (float): Share of the samples trained on; the rest
            selects the best epoch (1.0 trains on all, keeping the last).
            Defaults to 0.8.
        model_cfg (dict, optional): ``hidden_features`` (300),
            ``num_hidden_layers`` (2, besides the first) and ``act_cfg``
            (``dict(type='ReLU')``; 'Tanh', 'Sigmoid' also accepted), as in
            the original MMRazor. Defaults to None.
        device (str): Only 'cpu'; kept for config compatibility.
        seed (int): Seed of the weights and the split. Defaults to 0.
    """

    _ACTS = {'ReLU': 'relu', 'Tanh': 'tanh', 'Sigmoid': 'logistic'}
    _MODEL_KEYS = ('in_features', 'hidden_features', 'out_features',
                   'num_hidden_layers', 'act_cfg', 'drop')

    def __init__(self,
                 epochs: int = 100,
                 data_split_ratio: float = 0.8,
                 model_cfg: Optional[Dict] = None,
                 device: str = 'cpu',
                 seed: int = 0) -> None:
        cfg = dict(model_cfg or {})
        unknown = sorted(set(cfg) - set(self._MODEL_KEYS))
        if unknown:
            raise ValueError(f'MLPHandler: model_cfg keys {unknown} are not '
                             f'supported; allowed: {list(self._MODEL_KEYS)}')
        if cfg.get('drop', 0.0):
            raise ValueError('MLPHandler: model_cfg drop must be 0: the '
                             'scikit-learn MLP has no dropout (it keeps the '
                             'best epoch on held-out samples instead, see '
                             'data_split_ratio)')
        act = dict(cfg.get('act_cfg', dict(type='ReLU'))).get('type')
        check_choice('MLPHandler', 'act_cfg.type', act, self._ACTS)
        if not 0.0 < data_split_ratio <= 1.0:
            raise ValueError('MLPHandler: data_split_ratio must be in (0, 1],'
                             f' but got {data_split_ratio!r}')
        if device != 'cpu':
            raise ValueError(f'MLPHandler: device={device!r} is not '
                             "supported; allowed: ['cpu']")
        self.epochs = int(epochs)
        self.data_split_ratio = data_split_ratio
        self.hidden = (int(cfg.get('hidden_features', 300)), ) * (
            int(cfg.get('num_hidden_layers', 2)) + 1)
        self.activation = self._ACTS[act]
        self.seed = seed
        self.model = None

    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Train the network on standardised inputs and targets."""
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        data = _as_2d(train_data)
        holdout = 1.0 - self.data_split_ratio
        early = holdout > 0 and round(len(data) * holdout) >= 2
        mlp = MLPRegressor(
            hidden_layer_sizes=self.hidden,
            activation=self.activation,
            learning_rate_init=8e-4,
            batch_size=len(data),
            max_iter=self.epochs,
            early_stopping=early,
            validation_fraction=holdout if early else 0.1,
            n_iter_no_change=self.epochs,
            random_state=self.seed)
        model = TransformedTargetRegressor(
            make_pipeline(StandardScaler(), mlp), transformer=StandardScaler())
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # ConvergenceWarning by design
            model.fit(data, np.asarray(train_label, dtype=np.float64))
        self.model = model

    def predict(self, test_data: np.ndarray) -> np.ndarray:
        """The network's output, in score units."""
        return np.asarray(
            _fitted(self).predict(_as_2d(test_data)),
            dtype=np.float64).reshape(-1)


@TASK_UTILS.register_module()
class RBFHandler(BaseHandler):
    """Radial-basis-function interpolation of the score.

    scipy's ``RBFInterpolator`` with a polynomial tail. It needs the
    'normal' encoding (one index per search group): with one-hot codes the
    linear tail is singular. It interpolates: fitting needs more distinct
    samples than search groups (for the linear tail).

    Args:
        kernel (str): 'tps' (thin-plate spline) or 'cubic'. Defaults to
            'tps'.
        tail (str): 'linear' or 'constant'. Defaults to 'linear'.
    """

    encoding_type = 'normal'
    _KERNELS = {'tps': 'thin_plate_spline', 'cubic': 'cubic'}
    _TAILS = {'linear': 1, 'constant': 0}

    def __init__(self, kernel: str = 'tps', tail: str = 'linear') -> None:
        check_choice('RBFHandler', 'kernel', kernel, self._KERNELS)
        check_choice('RBFHandler', 'tail', tail, self._TAILS)
        self.kernel = kernel
        self.tail = tail
        self.model = None

    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Interpolate the samples (duplicates averaged)."""
        from scipy.interpolate import RBFInterpolator
        data = _as_2d(train_data)
        label = np.asarray(train_label, dtype=np.float64)
        unique, inverse = np.unique(data, axis=0, return_inverse=True)
        means = np.bincount(
            inverse.reshape(-1), weights=label) / np.bincount(
                inverse.reshape(-1))
        degree = self._TAILS[self.tail]
        needed = data.shape[1] + 1 if degree else 1
        if len(unique) < needed:
            raise ValueError(
                f'RBFHandler: {len(unique)} distinct samples of '
                f'{data.shape[1]} features cannot fit a {self.tail} tail; it '
                f'needs at least {needed}. Raise train_samples.')
        try:
            self.model = RBFInterpolator(
                unique, means, kernel=self._KERNELS[self.kernel],
                degree=degree)
        except np.linalg.LinAlgError as e:
            raise ValueError(
                f'RBFHandler: the samples cannot fit a {self.tail} tail ({e})'
                '; they must vary every search group. Raise train_samples '
                "or use tail='constant'.") from e

    def predict(self, test_data: np.ndarray) -> np.ndarray:
        """The interpolant at the encoded subnets."""
        return np.asarray(_fitted(self)(_as_2d(test_data))).reshape(-1)


@TASK_UTILS.register_module()
class CartsHandler(BaseHandler):
    """An ensemble of regression trees (CART, Breiman et al., 1984).

    Each tree is a scikit-learn ``DecisionTreeRegressor`` grown on all
    samples but only a random subset of the features (of random size); the
    prediction is the mean over trees.

    Args:
        num_trees (int): Number of trees. Defaults to 1000.
        seed (int): Seed of the feature subsets. Defaults to 0.
    """

    def __init__(self, num_trees: int = 1000, seed: int = 0) -> None:
        if int(num_trees) < 1:
            raise ValueError(
                f'CartsHandler: num_trees must be >= 1, got {num_trees!r}')
        self.num_trees = int(num_trees)
        self.seed = seed
        self.model = None

    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Grow the trees, each on its own random feature subset."""
        from sklearn.tree import DecisionTreeRegressor
        data = _as_2d(train_data)
        label = np.asarray(train_label, dtype=np.float64)
        rng = np.random.RandomState(self.seed)
        trees: List = []
        for _ in range(self.num_trees):
            num = rng.randint(1, data.shape[1] + 1)
            features = np.sort(rng.permutation(data.shape[1])[:num])
            tree = DecisionTreeRegressor(random_state=rng.randint(2**31 - 1))
            tree.fit(data[:, features], label)
            trees.append((features, tree))
        self.model = trees

    def predict(self, test_data: np.ndarray) -> np.ndarray:
        """Mean prediction of the trees."""
        data = _as_2d(test_data)
        trees = _fitted(self)
        total = np.zeros(len(data))
        for features, tree in trees:
            total += tree.predict(data[:, features])
        return total / len(trees)


def _fitted(handler: BaseHandler):
    if handler.model is None:
        raise RuntimeError(f'{type(handler).__name__} predicts only after '
                           'fit(); fit it on evaluated subnets first')
    return handler.model
