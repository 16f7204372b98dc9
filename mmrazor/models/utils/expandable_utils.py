# Copyright (c) OpenMMLab. All rights reserved.
"""Widen the channels of a (pruned) model: the original MMRazor's
``expandable_utils``.

A model is traced into channel units (:class:`ChannelAnalyzer`); a unit of
``n`` channels expanded to ``N`` gets ``N - n`` new channels, inserted right
after its own channels in every layer that writes or reads them (so
concatenations stay in order). The old weights stay where they were; the new
ones are zero (``zero=True``: the widened model computes exactly what the
narrow one did) or freshly initialised as PyTorch initialises the layer.

Typical use: widen a pruned model's odd channel counts to multiples of 8
(:func:`make_channel_divisible`) for faster kernels, or widen a model before
training it further (:func:`expand_static_model`).
"""
import math
import weakref
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd

Structure = Dict[str, int]
#: Insertions along one dimension: ``[(position, count)]`` in old indices.
Inserts = List[Tuple[int, int]]

_EXPANDERS: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()


class ChannelExpander:
    """The channel units of a model and how far each is to be widened.

    Built by :func:`to_expandable_model`; :meth:`expand_to` records a new
    width, :func:`expand_expandable_dynamic_model` applies them.

    Args:
        model (nn.Module): The model (left unchanged until expanded).
        demo_input (Sequence[int] | dict): The input of the trace (see
            :class:`~mmrazor.models.task_modules.ChannelAnalyzer`).
    """

    def __init__(self, model: nn.Module,
                 demo_input=(1, 3, 224, 224)) -> None:
        from mmrazor.models.task_modules import ChannelAnalyzer
        analyzer = ChannelAnalyzer(demo_input=demo_input)
        self.units: Dict[str, dict] = analyzer.analyze(model)
        self.excluded = dict(analyzer.excluded_units)
        self.targets: Structure = {
            name: unit['init_args']['num_channels']
            for name, unit in self.units.items()
        }

    @property
    def choice_template(self) -> Structure:
        """``{unit name: channels}`` as expanded so far (the original's
        name for the structure of a mutator)."""
        return dict(self.targets)

    def num_channels(self, name: str) -> int:
        """The unit's channels in the traced model."""
        return self._unit(name)['init_args']['num_channels']

    def _unit(self, name: str) -> dict:
        if name not in self.units:
            why = self.excluded.get(name, {}).get('reason')
            hint = (f' It cannot change: {why}.' if why else
                    f' Units: {sorted(self.units)}')
            raise KeyError(f'No expandable channel unit {name!r}.{hint}')
        return self.units[name]

    def expand_to(self, name: str, num: int) -> None:
        """Widen unit ``name`` to ``num`` channels (at least its own)."""
        old = self.num_channels(name)
        if isinstance(num, bool) or not isinstance(num, int) or num < old:
            raise ValueError(f'Unit {name!r} has {old} channels: it can be '
                             f'expanded to an int >= {old}, not {num!r}')
        self.targets[name] = num

    def inserts(self) -> Dict[Tuple[str, bool], Inserts]:
        """``{(module name, is output dim): [(position, count)]}``."""
        plan: Dict[Tuple[str, bool], Inserts] = {}
        for name, unit in self.units.items():
            extra = self.targets[name] - self.num_channels(name)
            if extra == 0:
                continue
            channels = unit['channels']
            for entry in channels['output_related'] + channels[
                    'input_related']:
                ratio = int(entry['expand_ratio'])
                plan.setdefault((entry['name'], entry['is_output_channel']),
                                []).append((entry['end'] * ratio,
                                            extra * ratio))
        return plan


def to_expandable_model(model: nn.Module,
                        demo_input=(1, 3, 224, 224)) -> ChannelExpander:
    """Trace ``model`` into expandable channel units.

    Args:
        model (nn.Module): A static model.
        demo_input (Sequence[int] | dict): Input of the trace. Defaults to
            ``(1, 3, 224, 224)`` (the original's fixed input).

    Returns:
        ChannelExpander: Its units; :meth:`ChannelExpander.expand_to` sets
        their widths, :func:`expand_expandable_dynamic_model` applies them.
    """
    expander = ChannelExpander(model, demo_input)
    _EXPANDERS[model] = expander
    return expander


def expand_expandable_dynamic_model(model: nn.Module,
                                    zero: bool = False) -> nn.Module:
    """Apply the widths set on ``model``'s expander, in place.

    Args:
        model (nn.Module): A model passed to :func:`to_expandable_model`.
        zero (bool): New weights are zero (the outputs do not change), or
            initialised as the layer's ``reset_parameters`` would. Defaults
            to False.

    Returns:
        nn.Module: ``model``, widened.
    """
    expander = _EXPANDERS.get(model)
    if expander is None:
        raise ValueError('expand_expandable_dynamic_model: call '
                         'to_expandable_model(model) first, then expand_to on '
                         'the units to widen')
    modules = dict(model.named_modules())
    plan = expander.inserts()
    for name, _ in plan:  # refuse before changing anything
        _check_expandable(name, modules[name])
    for (name, is_out), inserts in plan.items():
        _expand_module(name, modules[name], is_out, inserts, zero)
    # the model now has the expanded widths: trace it again to expand more
    _EXPANDERS.pop(model, None)
    return model


def expand_static_model(model: nn.Module,
                        structure: Structure,
                        zero_weight: bool = True,
                        demo_input=(1, 3, 224, 224)) -> nn.Module:
    """Widen the units of ``model`` to ``structure`` ``{unit: channels}``
    (names as :func:`to_expandable_model` reports them), in place."""
    expander = to_expandable_model(model, demo_input)
    for name, num in structure.items():
        expander.expand_to(name, num)
    return expand_expandable_dynamic_model(model, zero=zero_weight)


def make_channel_divisible(model: nn.Module,
                           divisor: int,
                           zero_weight: bool = True,
                           demo_input=(1, 3, 224, 224)) -> Structure:
    """Round every unit's channels up to a multiple of ``divisor``, in
    place; return the new structure ``{unit: channels}`` of the model."""
    if isinstance(divisor, bool) or not isinstance(divisor,
                                                   int) or divisor < 1:
        raise ValueError(
            f'make_channel_divisible: divisor must be an int >= 1, got '
            f'{divisor!r}')
    expander = to_expandable_model(model, demo_input)
    for name in expander.units:
        num = expander.num_channels(name)
        expander.expand_to(name, math.ceil(num / divisor) * divisor)
    expand_expandable_dynamic_model(model, zero=zero_weight)
    return ChannelExpander(model, demo_input).choice_template


# -- widening one module ----------------------------------------------------


def _grow(tensor: Tensor, dim: int, inserts: Inserts,
          new_values: Tensor) -> Tensor:
    """``tensor`` with blocks of ``new_values`` inserted along ``dim``."""
    pieces, pos, taken = [], 0, 0
    for at, count in sorted(inserts):
        pieces.append(tensor.narrow(dim, pos, at - pos))
        pieces.append(new_values.narrow(dim, taken + at, count))
        pos, taken = at, taken + count
    pieces.append(tensor.narrow(dim, pos, tensor.size(dim) - pos))
    return torch.cat(pieces, dim)


def _fresh(shape: Sequence[int], like: Tensor, fan_in: int) -> Tensor:
    """PyTorch's default init of conv and linear weights and biases:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_ with a=sqrt(5))."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    return torch.empty(shape, dtype=like.dtype,
                       device=like.device).uniform_(-bound, bound)


def _new_param(module: nn.Module, attr: str, dim: int, inserts: Inserts,
               fill_value: Optional[float], zero: bool, fan_in: int) -> None:
    """Grow ``module.<attr>`` along ``dim``: new entries are
    ``fill_value`` if given, else zero (``zero``) or the default init."""
    old = getattr(module, attr)
    if old is None:
        return
    shape = list(old.shape)
    shape[dim] += sum(c for _, c in inserts)
    if fill_value is not None:
        fill = torch.full(shape, fill_value, dtype=old.dtype,
                          device=old.device)
    elif zero:
        fill = torch.zeros(shape, dtype=old.dtype, device=old.device)
    else:
        fill = _fresh(shape, old, fan_in)
    new = _grow(old.detach(), dim, inserts, fill)
    if isinstance(old, nn.Parameter):
        setattr(module, attr, nn.Parameter(new, old.requires_grad))
    else:
        setattr(module, attr, new)


def _check_expandable(name: str, module: nn.Module) -> None:
    """Raise a ValueError unless :func:`_expand_module` can widen it."""
    if isinstance(module, _ConvNd) and not module.transposed:
        if module.groups > 1 and not (module.groups == module.in_channels
                                      == module.out_channels):
            raise ValueError(f'{name}: a group conv ({module.groups} '
                             'groups) cannot be expanded')
        return
    if isinstance(module, (nn.Linear, _BatchNorm)):
        return
    raise ValueError(
        f'{name}: {type(module).__name__} cannot be expanded (supported: '
        'Conv1d/2d/3d, depthwise convs, Linear, BatchNorm); a norm over '
        'channels such as LayerNorm would change its statistics')


def _expand_module(name: str, module: nn.Module, is_out: bool,
                   inserts: Inserts, zero: bool) -> None:
    added = sum(c for _, c in inserts)
    if isinstance(module, _ConvNd):
        depthwise = module.groups > 1
        kernel = math.prod(module.kernel_size)
        if depthwise:
            if not is_out:
                return  # the same channels as its output: grown there
            fan_in = kernel
            _new_param(module, 'weight', 0, inserts, None, zero, fan_in)
            _new_param(module, 'bias', 0, inserts, None, zero, fan_in)
            module.in_channels = module.out_channels = module.groups = (
                module.out_channels + added)
            return
        fan_in = module.in_channels * kernel
        if is_out:
            _new_param(module, 'weight', 0, inserts, None, zero, fan_in)
            _new_param(module, 'bias', 0, inserts, None, zero, fan_in)
            module.out_channels += added
        else:
            _new_param(module, 'weight', 1, inserts, None, zero, fan_in)
            module.in_channels += added
        return
    if isinstance(module, nn.Linear):
        fan_in = module.in_features
        if is_out:
            _new_param(module, 'weight', 0, inserts, None, zero, fan_in)
            _new_param(module, 'bias', 0, inserts, None, zero, fan_in)
            module.out_features += added
        else:
            _new_param(module, 'weight', 1, inserts, None, zero, fan_in)
            module.in_features += added
        return
    if isinstance(module, _BatchNorm):
        if not is_out:
            return  # its output channels are the same: grown there
        _new_param(module, 'weight', 0, inserts, 0.0 if zero else 1.0,
                   zero, 0)
        _new_param(module, 'bias', 0, inserts, 0.0, zero, 0)
        _new_param(module, 'running_mean', 0, inserts, 0.0, zero, 0)
        _new_param(module, 'running_var', 0, inserts, 1.0, zero, 0)
        module.num_features += added
