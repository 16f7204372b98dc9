# Copyright (c) OpenMMLab. All rights reserved.
"""The channel mutator of DMCP: Markov architecture parameters, expected
channels and a differentiable FLOPs table."""
import logging
import random
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd

from mmrazor.registry import MODELS

from ..mutables.mutable_channel.units.dmcp_unit import DMCPChannelUnit
from .channel_mutator import ChannelMutator

MODES = ('max', 'min', 'random', 'direct', 'expected')
#: ``(unit index, first channel, last channel + 1, expand ratio)``
Span = Tuple[int, int, int, int]


class _LayerCost:
    """Multiply-accumulates of one conv or linear layer as a function of
    the channels its units keep: ``coef * in * out`` (``coef * out`` for a
    depthwise conv)."""

    def __init__(self, coef: float, full_in: int, full_out: int,
                 in_spans: List[Span], out_spans: List[Span],
                 depthwise: bool) -> None:
        self.coef = coef
        self.full_in, self.full_out = full_in, full_out
        self.in_spans, self.out_spans = in_spans, out_spans
        self.depthwise = depthwise

    @staticmethod
    def _side(full: int, spans: List[Span], channels: Sequence[Any]) -> Any:
        size: Any = full
        for index, start, end, ratio in spans:
            size = size - ratio * (end - start) + ratio * channels[index]
        return size

    def flops(self, channels: Sequence[Any]) -> Any:
        out = self._side(self.full_out, self.out_spans, channels)
        if self.depthwise:
            return self.coef * out
        return self.coef * self._side(self.full_in, self.in_spans,
                                      channels) * out


@MODELS.register_module()
class DMCPChannelMutator(ChannelMutator):
    """Channel mutator of DMCP (Guo et al., "DMCP: Differentiable Markov
    Channel Pruning for Neural Networks", CVPR 2020).

    Every unit (a :class:`DMCPChannelUnit`) gets the architecture
    parameters of its Markov chain (``arch_params[str(i)]``, one per
    group, zero at first: every group kept with probability 1). Subnets
    are sampled as the original MMRazor samples them (:meth:`sample_subnet`:
    'max', 'min', 'random' (a uniform number of groups), 'direct' (a walk
    of the chains) or 'expected' (the rounded expected widths)). While
    ``arch_train`` is on, the output of every batch norm that writes a
    unit's channels is scaled by each channel's marginal keep probability,
    so the loss of the largest subnet reaches the parameters (the paper's
    Sec. 3.2). :meth:`expected_flops` is the FLOPs of the expected widths,
    differentiable in the parameters; it comes from a table of every conv
    and linear layer built when the mutator is prepared, so it needs no
    forward pass (Sec. 3.3).

    Args:
        channel_unit_cfg (dict): As :class:`ChannelMutator`'s; units must be
            ``DMCPChannelUnit``. Defaults to
            ``dict(type='DMCPChannelUnit', units={})``.
        parse_cfg (dict): As :class:`ChannelMutator`'s; its ``demo_input``
            shape also sizes the FLOPs table.
        pruning_cfg (tuple): ``(min_rate, max_rate, rate_offset)``: units
            keep at least ``min_rate`` of their channels, in groups of
            ``rate_offset``. Defaults to ``(0.1, 1, 0.05)``.
        custom_groups, init_cfg: As :class:`ChannelMutator`'s.
    """

    def __init__(self,
                 channel_unit_cfg: Dict = dict(
                     type='DMCPChannelUnit', units={}),
                 parse_cfg: Dict = dict(
                     type='ChannelAnalyzer',
                     demo_input=(1, 3, 224, 224),
                     tracer_type='BackwardTracer'),
                 pruning_cfg: Sequence[float] = (0.1, 1, 0.05),
                 custom_groups: Optional[List[List[str]]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(channel_unit_cfg, parse_cfg, custom_groups,
                         init_cfg)
        if not issubclass(self.unit_class, DMCPChannelUnit):
            raise TypeError('DMCPChannelMutator: channel_unit_cfg type must '
                            f'be DMCPChannelUnit, got {self.unit_class}')
        min_rate, max_rate, offset = (float(v) for v in pruning_cfg)
        if not 0 < min_rate < max_rate <= 1 or not 0 < offset <= max_rate:
            raise ValueError(
                'DMCPChannelMutator: pruning_cfg must be (min_rate, '
                'max_rate, rate_offset) with 0 < min_rate < max_rate <= 1 '
                f'and 0 < rate_offset <= max_rate, got {pruning_cfg!r}')
        self.pruning_cfg = (min_rate, max_rate, offset)
        self.arch_params = nn.ParameterDict()
        self.arch_train = False
        self._costs: List[_LayerCost] = []
        self._hooks: List[Any] = []

    # ------------------------------------------------------------ preparing
    def prepare_from_supernet(self, supernet: nn.Module) -> None:
        """Trace and convert ``supernet``, then build the architecture
        parameters, the batch-norm scaling and the FLOPs table."""
        super().prepare_from_supernet(supernet)
        for i, unit in enumerate(self.units):
            _, num_groups, _ = unit.set_groups(*self.pruning_cfg)
            self.arch_params[str(i)] = nn.Parameter(torch.zeros(num_groups))
        modules = dict(supernet.named_modules())
        shared = []
        for i, unit in enumerate(self.units):
            for channel in unit.output_related:
                module = modules[channel.name]
                if not isinstance(module, _BatchNorm):
                    continue
                if channel.start != 0 or \
                        channel.end != module.num_features:
                    shared.append(channel.name)
                    continue
                self._hooks.append(
                    module.register_forward_hook(self._scale_hook(i)))
        if shared:
            print_log(
                f'DMCPChannelMutator: the batch norms {shared[:5]} hold the '
                'channels of several units; their outputs are not scaled by '
                'the keep probabilities (only batch norms of one unit are)',
                logger='current', level=logging.WARNING)
        self._costs = self._cost_table(supernet)

    def _scale_hook(self, index: int):

        def hook(module: nn.Module, args: Any, output: Tensor) -> Tensor:
            if not self.arch_train:
                return output
            unit = self.units[index]
            scale = unit.channel_scale(self.arch_params[str(index)],
                                       output.size(1))
            shape = (1, -1) + (1, ) * (output.dim() - 2)
            return output * scale.to(output.dtype).view(shape)

        return hook

    def _demo_forward(self, model: nn.Module) -> None:
        shape = self.parse_cfg.get('demo_input', (1, 3, 224, 224))
        if isinstance(shape, dict):
            shape = shape.get('input_shape', (1, 3, 224, 224))
        param = next(model.parameters())
        x = torch.rand(tuple(shape), device=param.device)
        if isinstance(model, BaseModel):
            model(x, mode='tensor')
        else:
            model(x)

    @torch.no_grad()
    def _cost_table(self, model: nn.Module) -> List[_LayerCost]:
        spans: Dict[Tuple[str, bool], List[Span]] = {}
        for i, unit in enumerate(self.units):
            for c in unit.channels:
                spans.setdefault((c.name, c.is_output_channel), []).append(
                    (i, c.start, c.end, c.expand_ratio))
        sizes: Dict[str, Tuple[int, float]] = {}
        handles = []
        def record(name: str, module: nn.Module, out: Tensor) -> None:
            # positions per sample: H x W of a conv, tokens of a linear
            dim = -1 if isinstance(module, nn.Linear) else 1
            sizes.setdefault(name, (out.size(0),
                                    out[0].numel() / out.size(dim)))

        for name, module in model.named_modules():
            if isinstance(module, (_ConvNd, nn.Linear)):
                handles.append(module.register_forward_hook(
                    lambda m, a, out, name=name: record(name, m, out)))
        self.set_choices(self.sample_choices('max'))
        training, arch_train = model.training, self.arch_train
        self.arch_train = False
        model.eval()
        try:
            self._demo_forward(model)
        finally:
            model.train(training)
            self.arch_train = arch_train
            for h in handles:
                h.remove()
        costs = []
        for name, module in model.named_modules():
            if name not in sizes:
                continue
            batch, positions = sizes[name]
            if isinstance(module, nn.Linear):
                full_in, full_out = module.in_features, module.out_features
                coef, depthwise = positions, False
            else:
                full_in, full_out = module.in_channels, module.out_channels
                kernel = float(torch.tensor(module.kernel_size).prod())
                depthwise = module.groups > 1 and \
                    module.groups == full_in == full_out
                coef = kernel * positions / (1 if depthwise else
                                             module.groups)
            costs.append(_LayerCost(coef, full_in, full_out,
                                    spans.get((name, False), []),
                                    spans.get((name, True), []), depthwise))
        return costs

    # ------------------------------------------------------------ sampling
    def _channels(self, mode: str, index: int) -> int:
        unit = self.units[index]
        if mode == 'max':
            return unit.num_channels
        if mode == 'min':
            return unit.min_channels
        if mode == 'random':
            return unit.min_channels + unit.group_size * random.randint(
                0, unit.num_groups)
        if mode == 'direct':
            return unit.sample_markov(self.arch_params[str(index)])
        expected = float(unit.expected_channels(self.arch_params[str(index)]))
        return int(min(unit.num_channels,
                       max(unit.min_channels, round(expected))))

    def sample_subnet(self, mode: str, arch_train: bool = False) -> None:
        """Set every unit's width by ``mode`` (one of :data:`MODES`) and
        turn the batch-norm scaling on or off."""
        if mode not in MODES:
            raise ValueError(f'DMCPChannelMutator.sample_subnet: mode must '
                             f'be one of {list(MODES)}, got {mode!r}')
        for i, unit in enumerate(self.units):
            number = self._channels(mode, i)
            unit.current_choice = number if unit.choice_mode == 'number' \
                else number / unit.num_channels
        self.arch_train = bool(arch_train)

    # -------------------------------------------------------------- costs
    def expected_channels(self) -> List[Tensor]:
        """Each unit's expected width, differentiable in its parameters."""
        return [
            unit.expected_channels(self.arch_params[str(i)])
            for i, unit in enumerate(self.units)
        ]

    def expected_flops(self) -> Tensor:
        """MFLOPs (multiply-accumulates of the convs and linear layers at
        the demo input) of the expected widths."""
        channels = self.expected_channels()
        total = sum(cost.flops(channels) for cost in self._costs)
        return total / 1e6

    def current_flops(self) -> float:
        """MFLOPs of the widths currently set."""
        channels = [unit.activated_channels for unit in self.units]
        return float(sum(cost.flops(channels) for cost in self._costs)) / 1e6
