# Copyright (c) OpenMMLab. All rights reserved.
"""Resources of the subnets of a supernet, and the search constraints."""
from typing import Any, Dict, Optional, Tuple

import torch.nn as nn

from mmrazor.models.task_modules.estimators import build_estimator

RESOURCES = ('flops', 'params', 'latency')


class SubnetResources:
    """Answers "what does this subnet cost?" and "is it within budget?".

    FLOPs and params come from a per-choice cost table when the estimator
    can build one for the supernet (a sum of table entries: no forward
    pass), otherwise from a full estimate of the supernet at that subnet.
    Latency is always measured. Results are cached per subnet.

    Args:
        architecture (nn.Module): The supernet (e.g. an mmcls classifier).
        mutator: Its ``NasMutator``.
        estimator_cfg (dict, optional): Config of the estimator. Defaults to
            ``dict(type='mmrazor.ResourceEstimator')``.
        constraints (dict): ``{resource: (min, max)}`` in the estimator's
            units; ``None`` or a non-positive max means "no upper bound".
    """

    def __init__(self,
                 architecture: nn.Module,
                 mutator: Any,
                 estimator_cfg: Optional[Dict] = None,
                 constraints: Optional[Dict[str, Tuple[float,
                                                       float]]] = None
                 ) -> None:
        constraints = dict(constraints or {})
        for name, bounds in constraints.items():
            if name not in RESOURCES:
                raise ValueError(
                    f'constraints_range has an unknown resource {name!r}; '
                    f'allowed: {list(RESOURCES)}')
            if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
                raise ValueError(
                    f'constraints_range[{name!r}] must be (min, max), but got '
                    f'{bounds!r}')
        self.constraints = {k: tuple(v) for k, v in constraints.items()}
        self.architecture = architecture
        self.mutator = mutator
        self.estimator = build_estimator(estimator_cfg)
        self.with_latency = 'latency' in self.constraints
        self.cost_table = self._build_cost_table()
        self._cache: Dict[str, Dict[str, float]] = {}

    def _build_cost_table(self) -> Optional[Any]:
        build = getattr(self.estimator, 'build_cost_table', None)
        if build is None:
            return None
        try:
            return build(self.architecture, self.mutator)
        except (ValueError, TypeError):
            # Spaces whose shapes depend on the choices, or with mutables
            # other than candidate ops: full estimates.
            return None

    def estimate(self, choices: Dict[str, Any]) -> Dict[str, float]:
        """FLOPs, params (and latency if constrained) of a subnet."""
        import json
        key = json.dumps(choices, sort_keys=True)
        if key in self._cache:
            return self._cache[key]
        if self.cost_table is not None and not self.with_latency:
            result = dict(self.cost_table.estimate(choices))
        else:
            previous = self.mutator.current_choices
            self.mutator.set_choices(choices)
            try:
                result = dict(
                    self.estimator.estimate(
                        self.architecture,
                        measure_latency=self.with_latency))
            finally:
                if all(v is not None for v in previous.values()):
                    self.mutator.set_choices(previous)
        self._cache[key] = result
        return result

    def within(self, choices: Dict[str, Any]) -> bool:
        """Whether a subnet satisfies every constraint."""
        if not self.constraints:
            return True
        resources = self.estimate(choices)
        for name, (low, high) in self.constraints.items():
            value = resources[name]
            if low is not None and value < low:
                return False
            if high is not None and high > 0 and value > high:
                return False
        return True
