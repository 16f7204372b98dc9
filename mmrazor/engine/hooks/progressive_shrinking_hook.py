# Copyright (c) OpenMMLab. All rights reserved.
"""Once-for-All's progressive shrinking: the space a supernet trains on
grows phase by phase."""
from typing import Any, Dict, List, Optional, Sequence, Union

from mmengine.hooks import Hook

from mmrazor.registry import HOOKS
from mmrazor.utils.model_wrappers import unwrap_model

_ALL = 'all'


def group_dim(key: str) -> str:
    """The dimension a search group varies: the last part of its key
    (``'backbone.layers.2.0.kernel_size'`` -> ``'kernel_size'``)."""
    return key.rsplit('.', 1)[-1]


@HOOKS.register_module()
class ProgressiveShrinkingHook(Hook):
    """Grow the sampled space by phases, as Once-for-All trains its
    supernet.

    Cai et al., "Once-for-All: Train One Network and Specialize it for
    Efficient Deployment", ICLR 2020 (https://arxiv.org/abs/1908.09791):
    the full network trains first; then kernel sizes become elastic, then
    depths (``[3, 4]``, then ``[2, 3, 4]``), then expand ratios (``[4, 6]``,
    then ``[3, 4, 6]``), each phase keeping what the earlier ones opened.

    The hook restricts what the algorithm's ``NasMutator`` samples
    (:meth:`~mmrazor.models.NasMutator.restrict_sampling`), so it works with
    any algorithm that samples through its ``mutator``: with ``BigNAS`` the
    largest subnet of every phase is the full network, which teaches the
    others in place. A search group belongs to the dimension named by the
    last part of its key (``backbone.layers.2.0.kernel_size`` and
    ``backbone.layers.2.kernel_size`` both to ``kernel_size``). Each
    governed dimension (``dims``) samples only its largest choice until a
    phase opens it; a phase gives a dimension a list of choices (each
    group keeps those of its own choices that are listed, or its largest if
    none is) or ``'all'``. Groups of other dimensions (resolution, widths
    if not governed) sample all their choices throughout.

    The phase is found from the current epoch (``by_epoch``) or iteration
    before every training iteration, so a resumed run continues in its
    phase; the restriction is lifted after training (a search in the same
    run sees the whole space).

    Args:
        phases (list[dict]): ``dict(begin=..., **{dim: choices or 'all'})``
            in increasing ``begin``; the first begins at 0. A phase keeps
            what the previous one opened and changes the dimensions it names.
        dims (Sequence[str], optional): The governed dimensions. Defaults to
            None: every dimension some phase names.
        by_epoch (bool): Whether ``begin`` counts epochs (else iterations).
            Defaults to True.

    Examples:
        >>> hook = ProgressiveShrinkingHook(phases=[
        ...     dict(begin=0),
        ...     dict(begin=10, kernel_size='all'),
        ...     dict(begin=20, depth=[3, 4]),
        ...     dict(begin=25, depth='all')])
        >>> hook.phase_at(22)
        {'kernel_size': 'all', 'depth': [3, 4]}
    """

    priority = 'NORMAL'

    def __init__(self,
                 phases: List[Dict[str, Any]],
                 dims: Optional[Sequence[str]] = None,
                 by_epoch: bool = True) -> None:
        if not isinstance(phases, (list, tuple)) or not phases:
            raise ValueError('ProgressiveShrinkingHook: `phases` must be a '
                             f'non-empty list of dicts, but got {phases!r}')
        begins = []
        opened: Dict[str, Union[str, List[Any]]] = {}
        self._cumulative = []
        for index, phase in enumerate(phases):
            if not isinstance(phase, dict) or 'begin' not in phase:
                raise ValueError(
                    f'ProgressiveShrinkingHook: phases[{index}] must be a '
                    f'dict with a `begin` key, but got {phase!r}')
            begin = phase['begin']
            if isinstance(begin, bool) or not isinstance(begin, int) or \
                    (begins and begin <= begins[-1]) or begin < 0:
                raise ValueError(
                    f'ProgressiveShrinkingHook: phases[{index}].begin must '
                    'be an int >= 0 greater than the previous phase\'s, but '
                    f'got {begin!r} after {begins}')
            for dim, value in phase.items():
                if dim == 'begin':
                    continue
                if value != _ALL and (not isinstance(value, (list, tuple))
                                      or not value):
                    raise ValueError(
                        f'ProgressiveShrinkingHook: phases[{index}].{dim} '
                        "must be 'all' or a non-empty list of choices, but "
                        f'got {value!r}')
                opened[dim] = value if value == _ALL else list(value)
            begins.append(begin)
            self._cumulative.append(dict(opened))
        if begins[0] != 0:
            raise ValueError('ProgressiveShrinkingHook: the first phase must '
                             f'begin at 0, but begins at {begins[0]}')
        self.begins = begins
        self.dims = tuple(dims) if dims is not None else tuple(opened)
        unknown = sorted(set(opened) - set(self.dims))
        if unknown:
            raise ValueError(
                f'ProgressiveShrinkingHook: phases open {unknown}, which are '
                f'not in dims={list(self.dims)}')
        self.by_epoch = by_epoch
        self._applied: Optional[int] = None

    def phase_index(self, progress: int) -> int:
        """Index of the phase at epoch or iteration ``progress``."""
        index = 0
        for i, begin in enumerate(self.begins):
            if progress >= begin:
                index = i
        return index

    def phase_at(self, progress: int) -> Dict[str, Union[str, List[Any]]]:
        """The dimensions open at ``progress`` and their choices."""
        return dict(self._cumulative[self.phase_index(progress)])

    def allowed_choices(self, mutator: Any,
                        progress: int) -> Dict[str, List[Any]]:
        """``{group key: allowed choices}`` of the governed groups of
        ``mutator`` at ``progress`` (ungoverned groups are left out)."""
        opened = self.phase_at(progress)
        allowed = {}
        for key, choices in mutator.choices.items():
            dim = group_dim(key)
            if dim not in self.dims or len(choices) < 2:
                continue
            value = opened.get(dim)
            if value == _ALL:
                continue
            largest = max(choices)
            subset = [c for c in choices if value and c in value]
            allowed[key] = subset or [largest]
        return allowed

    def _mutator(self, runner) -> Any:
        model = unwrap_model(runner.model)
        mutator = getattr(model, 'mutator', None)
        if mutator is None or not hasattr(mutator, 'restrict_sampling'):
            raise TypeError(
                'ProgressiveShrinkingHook needs an algorithm whose `mutator` '
                'is a NasMutator (such as BigNAS or Autoformer), but the '
                f'model is a {type(model).__name__}')
        return mutator

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Any = None) -> None:
        """Restrict the sampled space to the current phase."""
        progress = runner.epoch if self.by_epoch else runner.iter
        index = self.phase_index(progress)
        if index == self._applied:
            return
        mutator = self._mutator(runner)
        mutator.restrict_sampling(self.allowed_choices(mutator, progress))
        self._applied = index
        runner.logger.info(
            f'ProgressiveShrinkingHook: phase {index} from '
            f'{"epoch" if self.by_epoch else "iteration"} '
            f'{self.begins[index]}: {self.phase_at(progress) or "full"}')

    def after_train(self, runner) -> None:
        """Lift the restriction."""
        if self._applied is not None:
            self._mutator(runner).restrict_sampling(None)
            self._applied = None
