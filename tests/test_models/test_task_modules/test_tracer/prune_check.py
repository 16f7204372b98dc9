# Copyright (c) OpenMMLab. All rights reserved.
"""Check channel units by pruning with them.

Some channels of every prunable unit are dropped at once:

1. a *zeroed* copy of the model zeroes them in every ``output_related``
   module (weight rows, bias, norm affine), so they are exactly 0 wherever
   they flow;
2. a *pruned* copy of the zeroed model slices them out of every entry of
   the unit (output rows, input columns times ``expand_ratio``).

If a unit misses a coupled module the pruned forward fails on shapes; if
it misses a producer the outputs differ. Models whose channels feed a
statistic over channels (LayerNorm over C, GroupNorm) change numerically
when channels go, so for them only the forward is checked.
"""
import copy
from typing import Callable, Dict, List, Set

import torch
import torch.nn as nn

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)


def dropped_channels(units: Dict[str, dict]):
    """``(out_drop, in_drop)``: per module, the indices dropped when the
    first and the middle channel of every unit (of 2+ channels) go."""
    out_drop: Dict[str, Set[int]] = {}
    in_drop: Dict[str, Set[int]] = {}
    for unit in units.values():
        n = unit['init_args']['num_channels']
        if n < 2:
            continue
        drop = sorted({0, n // 2})
        for side, table in (('output_related', out_drop),
                            ('input_related', in_drop)):
            for e in unit['channels'][side]:
                r = e['expand_ratio']
                idx = table.setdefault(e['name'], set())
                for c in drop:
                    idx.update(range((e['start'] + c) * r,
                                     (e['start'] + c + 1) * r))
    return out_drop, in_drop


def _randomise_norms(model: nn.Module) -> None:
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, _NORMS) and m.weight is not None:
            m.weight.data = torch.rand(m.weight.shape, generator=gen) + 0.5
            m.bias.data = torch.rand(m.bias.shape, generator=gen) - 0.5
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean = torch.rand(m.num_features, generator=gen) - 0.5
            m.running_var = torch.rand(m.num_features, generator=gen) + 0.5


def _zero(module: nn.Module, idx: List[int]) -> None:
    for name in ('weight', 'bias', 'running_mean'):
        t = getattr(module, name, None)
        if isinstance(t, torch.Tensor):
            t.data[idx] = 0


def _keep(n: int, drop: Set[int]) -> List[int]:
    return [i for i in range(n) if i not in drop]


def _slice(module: nn.Module, out_idx: Set[int], in_idx: Set[int]) -> None:
    if isinstance(module, nn.Conv2d):
        if module.groups > 1:
            assert out_idx == in_idx, 'depthwise conv drops other inputs'
            keep = _keep(module.out_channels, out_idx)
            module.weight.data = module.weight.data[keep]
            module.in_channels = module.out_channels = module.groups = len(
                keep)
        else:
            ko = _keep(module.out_channels, out_idx)
            ki = _keep(module.in_channels, in_idx)
            module.weight.data = module.weight.data[ko][:, ki]
            module.out_channels, module.in_channels = len(ko), len(ki)
            keep = ko
    elif isinstance(module, nn.Linear):
        ko = _keep(module.out_features, out_idx)
        ki = _keep(module.in_features, in_idx)
        module.weight.data = module.weight.data[ko][:, ki]
        module.out_features, module.in_features = len(ko), len(ki)
        keep = ko
    elif isinstance(module, _NORMS):
        assert out_idx == in_idx, f'{module} drops other in/out channels'
        n = module.weight.shape[0]
        keep = _keep(n, out_idx)
        module.weight.data = module.weight.data[keep]
        if isinstance(module, nn.LayerNorm):
            module.normalized_shape = (len(keep), )
        elif isinstance(module, nn.GroupNorm):
            module.num_channels = len(keep)
        else:
            module.num_features = len(keep)
            module.running_mean = module.running_mean[keep]
            module.running_var = module.running_var[keep]
    else:
        raise TypeError(f'cannot slice {type(module).__name__}')
    if getattr(module, 'bias', None) is not None:
        module.bias.data = module.bias.data[keep]


def check_by_pruning(model: nn.Module, units: Dict[str, dict],
                     forward: Callable[[nn.Module], torch.Tensor],
                     exact: bool = True) -> nn.Module:
    """Prune ``model`` with ``units`` and compare with the zeroed model.

    Args:
        model (nn.Module): The analysed model (left untouched).
        units (dict): Its prunable units.
        forward (callable): ``forward(model) -> output tensor``.
        exact (bool): Whether to compare outputs (else only run).

    Returns:
        nn.Module: The pruned copy.
    """
    zeroed = copy.deepcopy(model)
    zeroed.eval()  # some mmcls backbones' train() returns None
    _randomise_norms(zeroed)
    out_drop, in_drop = dropped_channels(units)
    for name, idx in out_drop.items():
        _zero(zeroed.get_submodule(name), sorted(idx))
    pruned = copy.deepcopy(zeroed)
    for name in sorted(set(out_drop) | set(in_drop)):
        _slice(pruned.get_submodule(name), out_drop.get(name, set()),
               in_drop.get(name, set()))
    with torch.no_grad():
        expected, got = forward(zeroed), forward(pruned)
    assert got.shape == expected.shape
    if exact:
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    return pruned
