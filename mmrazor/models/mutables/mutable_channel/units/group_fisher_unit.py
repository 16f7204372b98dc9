# Copyright (c) OpenMMLab. All rights reserved.
"""Group Fisher units: channel importance from activations and gradients.

Liu et al., "Group Fisher Pruning for Practical Network Compression", ICML
2021 (https://arxiv.org/abs/2108.00708).
"""
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine import dist

from mmrazor.registry import MODELS

from .l1_unit import L1MutableChannelUnit
from .sequential_units import Choice

NORMALIZATIONS = ('flops', 'act', 'none')


def _is_weighted(module: nn.Module) -> bool:
    return isinstance(module, (nn.Conv2d, nn.Linear))


def _is_depthwise(module: nn.Module) -> bool:
    return isinstance(module, nn.Conv2d) and module.groups > 1 and \
        module.groups == module.in_channels == module.out_channels


def _active(module: nn.Module, side: str) -> int:
    """Active channels of one side of a (dynamic) conv or linear layer."""
    mutable = module.get_mutable_attr(side) if hasattr(
        module, 'get_mutable_attr') else None
    if mutable is not None:
        return mutable.activated_channels
    if isinstance(module, nn.Linear):
        return module.in_features if side == 'in_channels' else \
            module.out_features
    return getattr(module, side)


@MODELS.register_module()
class GroupFisherChannelUnit(L1MutableChannelUnit):
    """A mask unit pruned one channel at a time by its Fisher information.

    Group Fisher pruning (Liu et al., ICML 2021) puts a virtual mask ``m_c``
    on every channel; the Fisher information of the mask, estimated per
    batch as ``(sum_n (dL/dm_c)_n ** 2)``, measures what removing the
    channel costs. Coupled channels (a residual sum, a depthwise conv) share
    one mask, so the gradient of the mask is the sum over every place the
    channel is read: here the inputs of the unit's input-related convs and
    linear layers, ``dL/dm_c = sum_layers sum_hw x_c * dL/dx_c``.

    While recording (:meth:`start_record` ... :meth:`end_record`), forward
    hooks keep the output sizes of the unit's layers and hook the gradient
    of each input-related layer's input; :meth:`accumulate` folds the batch
    into :attr:`fisher_info`, divided by the cost of one channel:

    - ``'flops'``: the multiply-accumulates one channel adds to the unit's
      layers (output side: ``H W k k C_in``; input side ``H W k k C_out``;
      a depthwise conv ``H W k k`` once), in GFLOPs;
    - ``'act'``: the activation memory of one channel (``H W`` of each
      output-related conv or linear output), in M elements;
    - ``'none'``: no normalisation.

    The pruning algorithm compares :meth:`fisher_importance` across units
    and calls :meth:`prune_min_channel` on the unit holding the least
    important channel. A choice set directly (a config, the largest or
    smallest choice) keeps the channels with the largest L1 norm, as
    :class:`L1MutableChannelUnit` does; the current choice always reports
    the active channels (a number, or a ratio in ``'ratio'`` mode).

    Args:
        num_channels (int): Number of channels of the unit.
        normalization_type (str): ``'flops'``, ``'act'`` or ``'none'``.
            Defaults to ``'flops'``.
        mutate_linear (bool): Whether a unit read by a linear layer (e.g.
            the features before the classifier) is prunable. Defaults to
            False.
        choice_mode (str): ``'number'`` or ``'ratio'``. Defaults to
            ``'number'``.
        divisor (int): Counts set by a choice are multiples of it. Defaults
            to 1.
        min_value (int): Smallest count. Defaults to 1.
        min_ratio (float): See :class:`SequentialMutableChannelUnit`.
            Defaults to 0.9.
    """

    def __init__(self,
                 num_channels: int,
                 normalization_type: str = 'flops',
                 mutate_linear: bool = False,
                 choice_mode: str = 'number',
                 divisor: int = 1,
                 min_value: int = 1,
                 min_ratio: float = 0.9,
                 **kwargs) -> None:
        if normalization_type not in NORMALIZATIONS:
            raise ValueError(
                f'GroupFisherChannelUnit: `normalization_type` must be one of'
                f' {list(NORMALIZATIONS)}, but got {normalization_type!r}')
        super().__init__(num_channels, choice_mode, divisor, min_value,
                         min_ratio, **kwargs)
        self.normalization_type = normalization_type
        self.mutate_linear = bool(mutate_linear)
        self.register_buffer(
            'fisher_info', torch.zeros(num_channels, dtype=torch.float64),
            persistent=False)
        self.__dict__.update(
            _inputs=[], _outputs=[], _handles=[], _batch_grad=None,
            _shapes={})

    @property
    def init_args(self) -> Dict[str, Any]:
        return dict(super().init_args,
                    normalization_type=self.normalization_type,
                    mutate_linear=self.mutate_linear)

    # ------------------------------------------------------------ preparing
    def prepare_for_pruning(self, model: nn.Module) -> None:
        """Register the mutable channel and find the unit's convs and
        linear layers (inputs read the channels, outputs produce them)."""
        super().prepare_for_pruning(model)
        inputs: List[Tuple[nn.Module, int, int, int]] = []
        outputs: List[nn.Module] = []
        for channel in self.input_related:
            module = model.get_submodule(channel.name)
            if _is_weighted(module):
                inputs.append((module, channel.start * channel.expand_ratio,
                               channel.end * channel.expand_ratio,
                               channel.expand_ratio))
        for channel in self.output_related:
            module = model.get_submodule(channel.name)
            if _is_weighted(module):
                outputs.append(module)
        self.__dict__.update(_inputs=inputs, _outputs=outputs)

    @property
    def is_prunable(self) -> bool:
        """Whether the algorithm may prune this unit: it has a layer that
        reads it, and no linear reader unless ``mutate_linear``."""
        if not self._inputs:
            return False
        return self.mutate_linear or not any(
            isinstance(m, nn.Linear) for m, *_ in self._inputs)

    # ------------------------------------------------------------ recording
    def start_record(self) -> None:
        """Hook the unit's layers until :meth:`end_record`."""
        self.end_record()
        handles = self._handles
        for module, start, end, ratio in self._inputs:
            handles.append(
                module.register_forward_pre_hook(
                    self._input_hook(start, end, ratio)))
        for module in {id(m): m for m in self._outputs + [
                i[0] for i in self._inputs]}.values():
            handles.append(module.register_forward_hook(self._shape_hook))

    def end_record(self) -> None:
        """Remove the forward hooks (gradient hooks of tensors already
        recorded still fire in the coming backward)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _shape_hook(self, module: nn.Module, inputs: Any,
                    output: torch.Tensor) -> None:
        self._shapes[id(module)] = tuple(output.shape[2:])

    def _input_hook(self, start: int, end: int, ratio: int):
        """A forward pre-hook that hands the layer a view of its input and
        hooks the view's gradient: the gradient of this layer alone, even
        when other layers (or a shortcut) read the same tensor."""

        def hook(module: nn.Module, inputs: Tuple) -> Optional[Tuple]:
            x = inputs[0]
            if not x.requires_grad:
                return None
            container = module.get_mutable_attr('in_channels')
            active = None if container is None else container.current_mask
            view = x.view_as(x)

            def grad_hook(grad: torch.Tensor) -> None:
                self._add_grad(x.detach(), grad.detach(), active, start, end,
                               ratio)

            view.register_hook(grad_hook)
            return (view, *inputs[1:])

        return hook

    @torch.no_grad()
    def _add_grad(self, x: torch.Tensor, grad: torch.Tensor,
                  active: Optional[torch.Tensor], start: int, end: int,
                  ratio: int) -> None:
        """Add ``sum_hw x * grad`` of the unit's channels to the batch."""
        prod = (x * grad).float()
        prod = prod.flatten(2).sum(2) if prod.dim() > 2 else prod
        if active is not None:  # back to the layer's full channel count
            full = prod.new_zeros(prod.shape[0], active.numel())
            full[:, active.to(prod.device)] = prod
            prod = full
        prod = prod[:, start:end]
        if ratio > 1:
            prod = prod.reshape(prod.shape[0], -1, ratio).sum(2)
        total = self._batch_grad
        self.__dict__['_batch_grad'] = prod if total is None else total + prod

    # ------------------------------------------------------------ importance
    def channel_cost(self) -> float:
        """Cost of one channel under ``normalization_type`` (1 for
        ``'none'``), from the sizes of the last recorded forward."""
        if self.normalization_type == 'none':
            return 1.0
        shapes = self._shapes
        cost = 0.0
        if self.normalization_type == 'act':
            for module in self._outputs:
                cost += _area(shapes.get(id(module)))
            return cost / 1e6
        seen = set()
        for module in self._outputs:
            seen.add(id(module))
            area = _area(shapes.get(id(module)))
            if _is_depthwise(module):
                cost += area * _kernel(module)
            else:
                cost += area * _kernel(module) * _active(module, 'in_channels')
        for module, _, _, ratio in self._inputs:
            if id(module) in seen:
                continue
            area = _area(shapes.get(id(module)))
            cost += area * _kernel(module) * ratio * \
                _active(module, 'out_channels')
        return cost / 1e9

    def has_recorded(self) -> bool:
        """Whether gradients were recorded since the last
        :meth:`accumulate`."""
        return self._batch_grad is not None

    @torch.no_grad()
    def accumulate(self) -> None:
        """Fold the recorded batch into :attr:`fisher_info` and reset it.

        The batch's Fisher is summed over all processes when distributed.
        """
        grad = self._batch_grad
        self.__dict__['_batch_grad'] = None
        if grad is None:
            return
        fisher = (grad.double()**2).sum(0).to(self.fisher_info.device)
        if dist.is_distributed():
            dist.all_reduce(fisher)
        cost = self.channel_cost()
        if cost > 0:
            fisher = fisher / cost
        self.fisher_info += fisher

    def reset_fisher(self) -> None:
        """Forget the accumulated Fisher information."""
        self.fisher_info.zero_()
        self.__dict__['_batch_grad'] = None

    def fisher_importance(self) -> torch.Tensor:
        """Accumulated normalised Fisher per channel; ``inf`` for pruned
        channels."""
        imp = self.fisher_info.clone()
        imp[~self.current_mask.to(imp.device)] = float('inf')
        return imp

    def prune_min_channel(self) -> Optional[int]:
        """Prune the active channel of least Fisher information.

        Returns:
            int | None: The pruned channel, or None if one channel is left.
        """
        if self.activated_channels <= 1:
            return None
        index = int(self.fisher_importance().argmin())
        mask = self.current_mask.clone()
        mask[index] = False
        self.mutable_channel.current_choice = mask
        self._choice = self._number_to_choice(int(mask.sum()))
        return index

    # -------------------------------------------------------------- choices
    def _number_to_choice(self, number: int) -> Choice:
        return number / self.num_channels if self.choice_mode == 'ratio' \
            else number

    @property
    def current_choice(self) -> Choice:
        """The number (or ratio) of active channels."""
        return self._number_to_choice(self.activated_channels)

    @current_choice.setter
    def current_choice(self, choice: Choice) -> None:
        number = self.choice_to_number(choice)
        if number == self.activated_channels:
            self._choice = choice
            return
        L1MutableChannelUnit.current_choice.fset(self, choice)


def _area(shape: Optional[Tuple[int, ...]]) -> int:
    if not shape:
        return 1
    area = 1
    for size in shape:
        area *= size
    return area


def _kernel(module: nn.Module) -> int:
    if isinstance(module, nn.Conv2d):
        return module.kernel_size[0] * module.kernel_size[1]
    return 1
