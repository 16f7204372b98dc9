# Copyright (c) OpenMMLab. All rights reserved.
"""A one-shot op mutable that samples its candidates with given
probabilities."""
import math
import random
from typing import Any, Dict, List, Optional, Sequence

from mmrazor.registry import MODELS

from .mutable_module import CandidatesType, OneShotMutableOP


@MODELS.register_module()
class OneShotProbMutableOP(OneShotMutableOP):
    """A :class:`OneShotMutableOP` whose random sampling follows
    ``choice_probs`` instead of being uniform.

    :meth:`sample_choice` (what ``NasMutator.sample_choices`` calls for each
    search group during supernet training) draws candidate ``i`` with
    probability ``choice_probs[i]``, in the order of ``candidates``. A
    candidate of probability 0 is never trained; everything else (setting,
    fixing, dumping choices, exporting) is as in :class:`OneShotMutableOP`.

    Args:
        candidates (dict[str, dict | nn.Module] | nn.ModuleDict): The named
            candidate ops.
        choice_probs (Sequence[float]): One probability per candidate, >= 0,
            summing to 1 (within 1e-6).
        module_kwargs (dict, optional): Keyword arguments merged into every
            candidate config. Defaults to None.
        alias (str, optional): Search-group name shared with other mutables.
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> op = OneShotProbMutableOP(
        ...     candidates=dict(
        ...         a=dict(type='torch.nn.Identity'),
        ...         b=dict(type='torch.nn.Identity')),
        ...     choice_probs=[1.0, 0.0])
        >>> op.sample_choice()
        'a'
    """

    def __init__(self,
                 candidates: CandidatesType,
                 choice_probs: Optional[Sequence[float]] = None,
                 module_kwargs: Optional[Dict[str, Any]] = None,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(
            candidates=candidates,
            module_kwargs=module_kwargs,
            alias=alias,
            init_cfg=init_cfg)
        self.choice_probs = self._check_probs(choice_probs)

    def _check_probs(self, probs: Optional[Sequence[float]]) -> List[float]:
        name = type(self).__name__
        if probs is None or isinstance(probs, (str, bytes)):
            raise TypeError(f'{name}: `choice_probs` must be a list of one '
                            f'probability per candidate {self.choices}, but '
                            f'got {probs!r}')
        probs = [float(p) for p in probs]
        if len(probs) != len(self.choices):
            raise ValueError(
                f'{name}: `choice_probs` has {len(probs)} values for '
                f'{len(self.choices)} candidates {self.choices}')
        if any(not math.isfinite(p) or p < 0 for p in probs):
            raise ValueError(f'{name}: `choice_probs` must be finite and >= '
                             f'0, but got {probs}')
        if abs(sum(probs) - 1.0) > 1e-6:
            raise ValueError(f'{name}: `choice_probs` must sum to 1, but '
                             f'{probs} sums to {sum(probs)}')
        return probs

    def sample_choice(self) -> str:
        """A candidate name drawn with the probabilities ``choice_probs``
        (the fixed one, once fixed)."""
        if self.is_fixed:
            return self.current_choice
        return random.choices(self.choices, weights=self.choice_probs)[0]
