# Copyright (c) OpenMMLab. All rights reserved.
"""Wiring of mutables into MobileNet blocks built from dynamic ops.

Used by :class:`~mmrazor.models.architectures.backbones.AttentiveMobileNetV3`:
the blocks are built at their largest shape with dynamic convs and norms,
then every op is told which mutable decides each of its sizes.
"""
import functools
import math
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn as nn

from ...mutables import (
    DerivedMutable,
    OneShotMutableChannel,
    OneShotMutableValue,
    make_divisible,
)
from ...mutables.choice_epoch import choice_epoch
from ..dynamic_ops import DynamicConv2d, DynamicOpMixin
from ..ops import MBBlock


def range_values(row: Any, field: str, index: int) -> List[int]:
    """``[min, max, step]`` -> ``[min, min + step, ..., max]``.

    Args:
        row: One row of an ``arch_setting`` entry.
        field (str): The entry's name, for error messages.
        index (int): The row's index, for error messages.
    """
    if not isinstance(row, (list, tuple)) or len(row) != 3 or \
            not all(isinstance(v, (int, float)) for v in row):
        raise ValueError(
            f"arch_setting['{field}'][{index}] must be [min, max, step], "
            f'but got {row!r}')
    low, high, step = row
    if low > high or step <= 0:
        raise ValueError(
            f"arch_setting['{field}'][{index}] = {list(row)} needs "
            'min <= max and step > 0')
    values = []
    value = low
    while value <= high:
        values.append(value)
        value += step
    return values


class MutableTable(nn.ModuleDict, DynamicOpMixin):
    """The mutables of a search space, in one place of the module tree.

    A backbone registers its table before its layers, so that
    ``named_modules()`` (and subnet files exported by name) name each
    mutable here rather than inside the first op that reads it. Once a
    subnet is static nothing reads the mutables any more: the table exports
    to an empty ``nn.ModuleDict``.
    """

    accepted_mutable_attrs = ()

    def to_static_op(self) -> nn.ModuleDict:
        """An empty ``nn.ModuleDict``: a static subnet has no mutables."""
        return nn.ModuleDict()


def _same_value(values: List[Any]) -> Any:
    return values[0]


def _block_mutables(kernels: List[int], ratios: List[Any],
                    prefix: str) -> nn.ModuleDict:
    """The kernel size and expand ratio of one block (fine-grained mode).

    ``expand_ratio_se`` is the expand ratio again, under the alias MMRazor
    1.0 gave a copy of it (its subnet files list one per block): a derived
    value, so entries for it are accepted and never searched.
    """
    ratio = OneShotMutableValue(ratios, alias=prefix + 'expand_ratio')
    same = DerivedMutable(_same_value, [ratio])
    same.alias = prefix + 'expand_ratio_se'
    return nn.ModuleDict(
        dict(
            kernel_size=OneShotMutableValue(
                kernels, alias=prefix + 'kernel_size'),
            expand_ratio=ratio,
            expand_ratio_se=same))


def space_mutables(settings: Dict[str, Any],
                   fine_grained_mode: bool = False) -> MutableTable:
    """All mutables of a MobileNetV3 space, aliased as MMRazor 1.0's subnet
    files name them.

    Args:
        settings (dict): Choices of ``first_channels``, ``last_channels``,
            ``last_expand_ratio`` and, per stage, ``kernel_size``,
            ``num_blocks``, ``expand_ratio`` and ``out_channels``.
        fine_grained_mode (bool): Whether each block gets its own kernel
            size and expand ratio (``layers.{i}.{k}``) instead of its stage's
            (``layers.{i}``). Defaults to False.
    """

    def channels(choices: List[int], alias: str) -> OneShotMutableChannel:
        return OneShotMutableChannel(max(choices), choices, alias=alias)

    table = MutableTable()
    table['first_channels'] = channels(settings['first_channels'],
                                       'backbone.first_channels')
    layers = nn.ModuleDict()
    for i, (kernels, depths, ratios, widths) in enumerate(
            zip(settings['kernel_size'], settings['num_blocks'],
                settings['expand_ratio'], settings['out_channels']),
            start=1):
        prefix = f'backbone.layers.{i}.'
        stage = nn.ModuleDict()
        if fine_grained_mode:
            for k in range(max(depths)):
                stage[str(k)] = _block_mutables(kernels, ratios,
                                                f'{prefix}{k}.')
        else:
            stage['kernel_size'] = OneShotMutableValue(
                kernels, alias=prefix + 'kernel_size')
            stage['expand_ratio'] = OneShotMutableValue(
                ratios, alias=prefix + 'expand_ratio')
        stage['depth'] = OneShotMutableValue(depths, alias=prefix + 'depth')
        stage['out_channels'] = channels(widths, prefix + 'out_channels')
        layers[str(i)] = stage
    table['layers'] = layers
    table['last_channels'] = channels(settings['last_channels'],
                                      'backbone.last_channels')
    if len(settings['last_expand_ratio']) > 1:
        table['last_expand_ratio'] = OneShotMutableValue(
            settings['last_expand_ratio'], alias='backbone.last_expand_ratio')
    return table


def _active(op: DynamicOpMixin, attr: str, full: int) -> int:
    mutable = op.get_mutable_attr(attr)
    return full if mutable is None else mutable.activated_channels


class ProjectionConv2d(DynamicConv2d):
    """The 1x1 conv of an elastic shortcut: the identity whenever the active
    input and output widths are equal.

    When a block's input and output widths follow different mutables, they
    are sometimes equal; the shortcut then passes its input unchanged, as
    a static block with equal widths does. When both follow the same
    mutable it is always the identity and its weight is never used: it is
    kept so that the state dict has MMRazor 1.0's keys. Arguments are those
    of ``nn.Conv2d``.
    """

    def _is_identity(self) -> bool:
        epoch = choice_epoch()
        cached = self.__dict__.get('_identity')
        if cached is not None and cached[0] == epoch:
            return cached[1]
        identity = _active(self, 'in_channels', self.in_channels) == \
            _active(self, 'out_channels', self.out_channels)
        self.__dict__['_identity'] = (epoch, identity)
        return identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._is_identity():
            return x
        return super().forward(x)

    def to_static_op(self) -> nn.Module:
        """``nn.Identity`` at equal widths, else the plain 1x1 conv."""
        if self._is_identity():
            return nn.Identity()
        return super().to_static_op()


def _mask_mutables(module: nn.Module) -> Dict[str, Any]:
    """``{state-dict name: mutable}`` of ``module.mask_key_mutables``,
    without the names whose mutable is gone (a static export)."""
    found = {}
    for name in module.mask_key_mutables:
        try:
            found[name] = getattr(module, name)
        except (AttributeError, KeyError):
            continue
    return found


def _save_masks(module: nn.Module, state_dict: Dict[str, Any], prefix: str,
                local_metadata: Dict) -> None:
    for name, mutable in _mask_mutables(module).items():
        state_dict[f'{prefix}{name}.mask'] = mutable.current_mask.float()


def _load_masks(module: nn.Module, state_dict: Dict[str, Any], prefix: str,
                local_metadata: Dict, strict: bool, missing_keys: List[str],
                unexpected_keys: List[str], error_msgs: List[str]) -> None:
    for name, mutable in _mask_mutables(module).items():
        key = f'{prefix}{name}.mask'
        value = state_dict.pop(key, None)
        if value is not None and \
                tuple(value.shape) != (mutable.num_channels, ):
            error_msgs.append(
                f'size mismatch for {key}: copying a mask of shape '
                f'{tuple(value.shape)}, but the mutable has '
                f'{mutable.num_channels} channels')


def register_mask_keys(module: nn.Module) -> None:
    """Give ``module``'s state dict a ``{name}.mask`` entry per name of
    ``module.mask_key_mutables`` (an attribute giving a channel mutable).

    MMRazor 1.0 kept some channel mutables as submodules that store their
    current choice in a float mask buffer, so its checkpoints hold these
    entries. Here a saved entry is the float mask of the mutable's current
    choice; a loaded one is only checked for its shape (a subnet is set
    through the mutator or a subnet file, not through a checkpoint).
    Checkpoints without the entries load too.
    """
    module.register_state_dict_post_hook(_save_masks)
    module.register_load_state_dict_pre_hook(_load_masks)


def _round_product(values: List[Any]) -> int:
    return int(round(math.prod(values)))


def hidden_width(in_channels: Any, expand_ratio: Any,
                 num_channels: int) -> DerivedMutable:
    """``round(in_channels * expand_ratio)``, as a derived channel mutable
    of ``num_channels`` full channels (the blocks' hidden width rule)."""
    return DerivedMutable(
        _round_product, [in_channels, expand_ratio],
        num_channels=num_channels)


def _squeezed(values: List[Any], ratio: int, divisor: int) -> int:
    return make_divisible(values[0] // ratio, divisor)


def _check_dynamic(op: nn.Module, where: str) -> None:
    if not isinstance(op, DynamicOpMixin):
        raise TypeError(
            f'{where} is a {type(op).__name__}, which cannot follow a '
            'mutable: build the searchable backbone with dynamic ops, e.g. '
            "conv_cfg=dict(type='BigNasConv2d') and "
            "norm_cfg=dict(type='DynamicBatchNorm2d')")


def wire_conv_module(module: nn.Module,
                     where: str,
                     in_channels: Optional[Any] = None,
                     out_channels: Optional[Any] = None,
                     kernel_size: Optional[Any] = None) -> None:
    """Register mutables on an mmcv ``ConvModule`` of dynamic ops.

    The conv follows ``in_channels``, ``out_channels`` and ``kernel_size``
    (those given); its norm, if any, follows ``out_channels``.

    Args:
        module (ConvModule): The module.
        where (str): Its name, for error messages.
        in_channels, out_channels: Channel mutables (or derived ones).
        kernel_size: A value mutable of kernel sizes.
    """
    conv = module.conv
    _check_dynamic(conv, f'{where}.conv')
    for attr, mutable in (('in_channels', in_channels),
                          ('out_channels', out_channels),
                          ('kernel_size', kernel_size)):
        if mutable is not None:
            conv.register_mutable_attr(attr, mutable)
    if out_channels is not None and getattr(module, 'with_norm', False):
        _check_dynamic(module.norm, f'{where}.{module.norm_name}')
        module.norm.register_mutable_attr('num_features', out_channels)


def wire_mb_block(block: MBBlock, where: str, in_channels: Any,
                  out_channels: Any, expand_ratio: Any, kernel_size: Any,
                  se_ratio: int = 4, se_divisor: int = 8) -> None:
    """Make a dynamic ``MBBlock`` follow the mutables of its stage.

    The hidden width is ``round(in_channels * expand_ratio)`` (a
    :class:`DerivedMutable`), the SE layer squeezes it to
    ``make_divisible(hidden // se_ratio, se_divisor)`` (mmcls ``SELayer``'s
    rule) and an attentive shortcut gets a :class:`ProjectionConv2d`, the
    identity while both sides are equally wide.

    Args:
        block (MBBlock): A block built at its largest shape from dynamic ops.
        where (str): Its name, for error messages.
        in_channels: Channel mutable of the block's input.
        out_channels: Channel mutable of the block's output.
        expand_ratio: Value mutable (or number) of the expand ratio.
        kernel_size: Value mutable of the depthwise kernel size.
        se_ratio (int): The SE layer's squeeze ratio. Defaults to 4.
        se_divisor (int): The SE layer's channel divisor. Defaults to 8.
    """
    if block.with_expand_conv:
        mid = hidden_width(in_channels, expand_ratio, block.mid_channels)
        wire_conv_module(block.expand_conv, f'{where}.expand_conv',
                         in_channels, mid)
    else:
        mid = in_channels
    wire_conv_module(block.depthwise_conv, f'{where}.depthwise_conv', mid,
                     mid, kernel_size)
    if block.with_se:
        squeezed = DerivedMutable(
            functools.partial(_squeezed, ratio=se_ratio, divisor=se_divisor),
            [mid],
            num_channels=block.se.conv1.conv.out_channels)
        wire_conv_module(block.se.conv1, f'{where}.se.conv1', mid, squeezed)
        wire_conv_module(block.se.conv2, f'{where}.se.conv2', squeezed, mid)
    wire_conv_module(block.linear_conv, f'{where}.linear_conv', mid,
                     out_channels)
    if block.with_attentive_shortcut:
        # Every block gets the projection, even one whose two sides follow
        # the same mutable (always the identity then): the original
        # MMRazor's checkpoints hold a ``shortcut.conv.weight`` per block.
        projection = ProjectionConv2d(
            block.in_channels, block.out_channels, 1, bias=False)
        projection.register_mutable_attr('in_channels', in_channels)
        projection.register_mutable_attr('out_channels', out_channels)
        block.shortcut.conv = projection


def drop_path_rates(depths: Sequence[int], stages: Sequence[int],
                    rate: float) -> List[List[float]]:
    """Drop path rate of every block: ``rate * i / total`` for the ``i``-th
    block (counted over all stages from 0) of the stages in ``stages``
    (numbered from 1), 0 elsewhere."""
    total = sum(depths)
    rates, seen = [], 0
    for stage, depth in enumerate(depths, start=1):
        rates.append([
            rate * (seen + i) / total if stage in stages else 0.
            for i in range(depth)
        ])
        seen += depth
    return rates
