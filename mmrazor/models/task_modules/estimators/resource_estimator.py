# Copyright (c) OpenMMLab. All rights reserved.
"""FLOPs, parameters and latency of any model, as MMRazor 1.x reports them.

FLOPs are multiply-accumulates per sample, counted by torch's
``FlopCounterMode`` on the meta device plus mmcv's per-module conventions for
norm layers, ReLU-like activations, pooling, upsampling and conv biases; see
:mod:`mmrazor.models.task_modules.estimators.flops_params_counter` for the
full table. Parameters are those of the modules the forward ran. Latency is
the median of real forwards (:mod:`.latency_counter`).

Figures: the SPOS ShuffleNetV2 subnet (``SPOS_SUBNET.yaml``) at 224x224 is
327.54432 MFLOPs and 3.353592 M params (published: 0.33 G, 3.35 M); an mmcls
ResNet-18 classifier is 1822.176768 MFLOPs and 11.689512 M params (published:
1.82 G, 11.69 M).
"""
from typing import Any, Dict, Optional, Sequence, Union

import torch.nn as nn

from mmrazor.registry import TASK_UTILS, in_mmrazor_scope

from . import latency_counter
from .flops_params_counter import (
    OP_COUNTERS,
    CountResult,
    count_flops_params,
    default_forward,
)

SIZE_UNITS: Dict[Optional[str], float] = {'G': 1e9, 'M': 1e6, 'K': 1e3,
                                          None: 1.0}
TIME_UNITS: Dict[Optional[str], float] = {'ms': 1e-3, 's': 1.0, None: 1.0}
_UNITS = {'flops': SIZE_UNITS, 'params': SIZE_UNITS, 'latency': TIME_UNITS}
_FLOPS_PARAMS_KEYS = ('input_shape', 'forward_fn', 'use_meta',
                      'disabled_counters', 'custom_counters')
_LATENCY_KEYS = ('max_iter', 'num_warmup', 'log_interval', 'input_shape',
                 'forward_fn')
_LATENCY_DEFAULTS = dict(max_iter=100, num_warmup=5, log_interval=100)

#: The estimator that loops, hooks and algorithms build when their config
#: names none: FLOPs and params (in millions) of a 1x3x224x224 input.
DEFAULT_ESTIMATOR_CFG: Dict[str, Any] = dict(type='mmrazor.ResourceEstimator')


def build_estimator(estimator_cfg: Optional[Dict[str, Any]] = None,
                    **defaults: Any) -> Any:
    """Build an estimator from a (partial) config.

    The keys of ``estimator_cfg`` override ``defaults``, which override
    :data:`DEFAULT_ESTIMATOR_CFG`; so ``dict(input_shape=(1, 3, 32, 32))``
    builds a ``ResourceEstimator`` of that shape. Names resolve in the
    mmrazor scope unless the config sets ``_scope_``.

    Args:
        estimator_cfg (dict, optional): The user's config. Defaults to None.
        **defaults: Keys the caller sets unless the user's config does.

    Returns:
        The built estimator (a :class:`ResourceEstimator` by default).

    Examples:
        >>> build_estimator(dict(input_shape=(1, 3, 32, 32))).input_shape
        (1, 3, 32, 32)
    """
    cfg = {**DEFAULT_ESTIMATOR_CFG, **defaults, **dict(estimator_cfg or {})}
    return TASK_UTILS.build(in_mmrazor_scope(cfg))


@TASK_UTILS.register_module()
class ResourceEstimator:
    """Estimates the FLOPs, parameters and latency of a model.

    Works on any ``nn.Module``: an mmcls classifier, an algorithm such as
    ``SPOS``, a supernet at its current subnet (only the modules on the
    current path are counted) or a static export. An mmengine ``BaseModel``
    is called as ``model(x, mode='tensor')``, anything else as ``model(x)``.

    Args:
        input_shape (Sequence[int]): Input shape, batch included. FLOPs are
            divided by the batch size. Defaults to (1, 3, 224, 224).
        units (dict): Units of ``flops`` and ``params`` ('G', 'M', 'K' or
            None for plain counts) and of ``latency`` ('ms', or 's' / None
            for seconds). Missing keys keep their defaults. Defaults to
            ``dict(flops='M', params='M', latency='ms')``.
        as_strings (bool): Whether to return strings such as
            ``'327.544 MFLOPs'``, ``'3.354 M'`` and ``'12.345 ms'`` (3
            decimals) instead of floats. Defaults to False.
        flops_params_cfg (dict, optional): Defaults for FLOPs and params:
            ``input_shape``; ``forward_fn`` (``fn(model, x)``, also used for
            latency); ``use_meta`` (bool, default True: count on the meta
            device, with a logged fallback to a real forward);
            ``disabled_counters`` (names in ``OP_COUNTERS``: 'conv_bias',
            'norm', 'activation', 'pooling', 'upsample'; disabling all but
            conv_bias leaves pure conv/linear MACs); ``custom_counters``
            (``{module type: fn(module, inputs, output) -> FLOPs}``).
            Defaults to None.
        latency_cfg (dict, optional): Defaults for latency: ``max_iter``
            (100), ``num_warmup`` (5), ``log_interval`` (100),
            ``input_shape``, ``forward_fn``. When given, :meth:`estimate`
            measures latency unless told not to. Defaults to None.

    Examples:
        >>> import torch.nn as nn
        >>> estimator = ResourceEstimator(input_shape=(1, 3, 64, 64))
        >>> estimator.estimate(nn.Conv2d(3, 32, 3))
        {'flops': 3.444224, 'params': 0.000896}
        >>> raw = ResourceEstimator(units=dict(flops=None), as_strings=True)
        >>> raw.estimate(nn.Linear(8, 4), dict(input_shape=(2, 8)))
        {'flops': '32.0 FLOPs', 'params': '0.0 M'}
        >>> # latency too: the median of real forwards, in ms (it varies)
        >>> latency = estimator.estimate(
        ...     nn.Conv2d(3, 32, 3), latency_cfg=dict(max_iter=10))['latency']
        >>> latency > 0
        True
    """

    def __init__(self,
                 input_shape: Sequence[int] = (1, 3, 224, 224),
                 units: Dict[str, Optional[str]] = dict(
                     flops='M', params='M', latency='ms'),
                 as_strings: bool = False,
                 flops_params_cfg: Optional[Dict[str, Any]] = None,
                 latency_cfg: Optional[Dict[str, Any]] = None) -> None:
        self.input_shape = _check_shape(input_shape, 'input_shape')
        self.units = _check_units(units)
        self.as_strings = bool(as_strings)
        self.flops_params_cfg = self._merge_flops_params_cfg(
            dict(input_shape=self.input_shape), flops_params_cfg)
        self.latency_cfg = self._merge_latency_cfg(
            dict(_LATENCY_DEFAULTS), latency_cfg)
        self._measure_latency = latency_cfg is not None

    def estimate(self,
                 model: nn.Module,
                 flops_params_cfg: Optional[Dict[str, Any]] = None,
                 latency_cfg: Optional[Dict[str, Any]] = None,
                 measure_latency: Optional[bool] = None
                 ) -> Dict[str, Union[float, str]]:
        """Estimate the resources of ``model``.

        Args:
            model (nn.Module): The model; left unchanged (its train/eval
                modes are restored).
            flops_params_cfg (dict, optional): Overrides of the constructor's
                ``flops_params_cfg`` for this call. Defaults to None.
            latency_cfg (dict, optional): Overrides of the constructor's
                ``latency_cfg``; giving it turns latency on. Defaults to None.
            measure_latency (bool, optional): Whether to measure latency.
                Defaults to None: only when a ``latency_cfg`` was given here
                or to the constructor.

        Returns:
            dict: ``flops`` and ``params``, plus ``latency`` when measured,
            in ``units`` (strings if ``as_strings``).
        """
        fp_cfg = self._merge_flops_params_cfg(self.flops_params_cfg,
                                              flops_params_cfg)
        result = self.count(model, **fp_cfg)
        batch = fp_cfg['input_shape'][0]
        resources = dict(
            flops=self.convert(result.flops / batch, 'flops'),
            params=self.convert(result.params, 'params'))
        if measure_latency is None:
            measure_latency = self._measure_latency or latency_cfg is not None
        if measure_latency:
            lat_cfg = self._merge_latency_cfg(self.latency_cfg, latency_cfg)
            lat_cfg.setdefault('input_shape', fp_cfg['input_shape'])
            lat_cfg.setdefault('forward_fn', fp_cfg.get('forward_fn'))
            lat_cfg['forward_fn'] = lat_cfg['forward_fn'] or default_forward
            resources['latency'] = self.convert(
                latency_counter.measure_latency(model, **lat_cfg), 'latency')
        return resources

    def count(self,
              model: nn.Module,
              input_shape: Optional[Sequence[int]] = None,
              forward_fn: Any = None,
              use_meta: bool = True,
              disabled_counters: Sequence[str] = (),
              custom_counters: Optional[Dict[type, Any]] = None,
              **kwargs) -> CountResult:
        """Raw counts of one forward (MACs of the whole batch, parameter
        count), with this estimator's counters; see
        :func:`~.flops_params_counter.count_flops_params` for ``kwargs``
        (``dtype``, ``watch``).

        Args:
            model (nn.Module): The model.
            input_shape (Sequence[int], optional): Defaults to None: the
                estimator's.
            forward_fn (Callable, optional): ``fn(model, x)``. Defaults to
                None: ``model(x, mode='tensor')`` for a ``BaseModel``, else
                ``model(x)``.
            use_meta (bool): Whether to count on the meta device. Defaults to
                True.
            disabled_counters (Sequence[str]): Module counters to leave out.
                Defaults to ().
            custom_counters (dict, optional): Extra module counters.
                Defaults to None.

        Returns:
            CountResult: The raw counts.
        """
        return count_flops_params(
            model,
            input_shape or self.input_shape,
            forward_fn=forward_fn or default_forward,
            use_meta=use_meta,
            disabled_counters=disabled_counters,
            custom_counters=custom_counters,
            **kwargs)

    def convert(self, value: float, kind: str) -> Union[float, str]:
        """Express a raw count (``kind`` 'flops' or 'params') or a latency in
        seconds (``kind`` 'latency') in this estimator's units."""
        unit = self.units[kind]
        value = value / _UNITS[kind][unit]
        if not self.as_strings:
            return value
        if kind == 'latency':
            return f'{round(value, 3)} {unit or "s"}'
        suffix = 'FLOPs' if kind == 'flops' else ''
        return f'{round(value, 3)} {unit or ""}{suffix}'.rstrip()

    def build_cost_table(self, supernet: nn.Module, mutator: Any,
                         **kwargs) -> Any:
        """Build a :class:`~.cost_table.SubnetCostTable` of ``supernet``
        with this estimator; ``kwargs`` go to ``SubnetCostTable.build``."""
        from .cost_table import SubnetCostTable
        return SubnetCostTable.build(supernet, mutator, self, **kwargs)

    @staticmethod
    def _merge_flops_params_cfg(base: Dict[str, Any],
                                cfg: Optional[Dict[str, Any]]
                                ) -> Dict[str, Any]:
        merged = {**base, **_check_keys(cfg, _FLOPS_PARAMS_KEYS,
                                        'flops_params_cfg')}
        merged['input_shape'] = _check_shape(merged['input_shape'],
                                             'flops_params_cfg.input_shape')
        for name in merged.get('disabled_counters', ()):
            if name not in OP_COUNTERS:
                raise ValueError(
                    'flops_params_cfg.disabled_counters: unknown counter '
                    f'{name!r}; allowed: {list(OP_COUNTERS)}')
        for cls, fn in (merged.get('custom_counters') or {}).items():
            if not (isinstance(cls, type) and issubclass(cls, nn.Module)
                    and callable(fn)):
                raise TypeError(
                    'flops_params_cfg.custom_counters must map nn.Module '
                    'subclasses to callables fn(module, inputs, output), but '
                    f'got {cls!r}: {fn!r}')
        return merged

    @staticmethod
    def _merge_latency_cfg(base: Dict[str, Any],
                           cfg: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        merged = {**base, **_check_keys(cfg, _LATENCY_KEYS, 'latency_cfg')}
        if 'input_shape' in merged:
            merged['input_shape'] = _check_shape(merged['input_shape'],
                                                 'latency_cfg.input_shape')
        return merged

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_shape={self.input_shape}, '
                f'units={self.units}, as_strings={self.as_strings})')


def _check_keys(cfg: Optional[Dict[str, Any]], allowed: Sequence[str],
                field: str) -> Dict[str, Any]:
    """Return ``cfg`` as a dict, raising on a key not in ``allowed``."""
    if cfg is None:
        return {}
    if not isinstance(cfg, dict):
        raise TypeError(f'{field} must be a dict or None, but got {cfg!r}')
    unknown = sorted(set(cfg) - set(allowed))
    if unknown:
        raise ValueError(f'{field}: unknown keys {unknown}; allowed keys: '
                         f'{list(allowed)}')
    return dict(cfg)


def _check_shape(shape: Any, field: str) -> tuple:
    """Return ``shape`` as a tuple of positive ints (batch first)."""
    if (not isinstance(shape, (tuple, list)) or len(shape) < 2 or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0
            for d in shape)):
        raise ValueError(
            f'{field} must be a tuple of at least 2 positive ints, batch '
            f'first, such as (1, 3, 224, 224), but got {shape!r}')
    return tuple(shape)


def _check_units(units: Any) -> Dict[str, Optional[str]]:
    """Validate ``units`` and fill in the defaults of missing keys."""
    if not isinstance(units, dict):
        raise ValueError(f'units must be a dict such as dict(flops="M", '
                         f'params="M", latency="ms"), but got {units!r}')
    merged = dict(flops='M', params='M', latency='ms')
    for key, unit in units.items():
        if key not in _UNITS:
            raise ValueError(f'units: unknown key {key!r}; allowed keys: '
                             f'{list(_UNITS)}')
        if unit not in _UNITS[key]:
            raise ValueError(f'units[{key!r}] must be one of '
                             f'{list(_UNITS[key])}, but got {unit!r}')
        merged[key] = unit
    return merged
