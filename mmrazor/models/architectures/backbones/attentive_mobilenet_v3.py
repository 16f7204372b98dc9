# Copyright (c) OpenMMLab. All rights reserved.
"""The BigNAS / AttentiveNAS MobileNetV3 search space."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmcls.models.backbones.base_backbone import BaseBackbone
from mmcv.cnn import ConvModule
from mmengine.model import constant_init
from mmengine.registry import DefaultScope
from torch import Tensor

from mmrazor.registry import MODELS

from ...mutables import OneShotMutableChannel, make_divisible
from .._checkpointing import freeze, norms_to_eval
from ..dynamic_ops import DynamicSequential
from ..ops import MBBlock
from ._elastic_blocks import (
    drop_path_rates,
    hidden_width,
    range_values,
    register_mask_keys,
    space_mutables,
    wire_conv_module,
    wire_mb_block,
)

_FIELDS = ('kernel_size', 'num_blocks', 'expand_ratio', 'num_out_channels')
_DEFAULT_STRIDES = [1, 2, 2, 2, 1, 2, 1]
_DEFAULT_SE = [False, False, True, False, True, True, True]


def _act(cfg: Union[str, Dict]) -> Dict:
    return dict(type=cfg) if isinstance(cfg, str) else dict(cfg)


@MODELS.register_module()
class AttentiveMobileNetV3(BaseBackbone):
    """The MobileNetV3 supernet of BigNAS and AttentiveNAS.

    Yu et al., "BigNAS: Scaling Up Neural Architecture Search with Big
    Single-Stage Models", ECCV 2020 (https://arxiv.org/abs/2003.11142), with
    the search space of Wang et al., "AttentiveNAS: Improving Neural
    Architecture Search via Attentive Sampling", CVPR 2021
    (https://arxiv.org/abs/2011.09011).

    Layout: ``first_conv`` (3x3, stride 2), stages ``layer1`` ...
    ``layer7`` of ``MBBlock`` s (each a ``DynamicSequential``; the first
    block of a stage has the stage's stride, every block an attentive
    shortcut) and ``last_conv`` (1x1 expand conv, global pooling, 1x1
    ``feature_mix_layer``). Each row ``[min, max, step]`` of
    ``arch_setting`` gives the choices of one searchable size:

    - ``kernel_size`` (a row per stage): the depthwise kernel of the stage;
    - ``num_blocks`` (per stage): its depth;
    - ``expand_ratio`` (per stage, then one for the last conv): the hidden
      width of its blocks is ``input width * ratio``;
    - ``num_out_channels`` (first conv, each stage, last conv): widths,
      multiplied by ``widen_factor`` and rounded to multiples of 8.

    Blocks are built at their largest shape from ``conv_cfg`` / ``norm_cfg``
    (dynamic ops); the mutables live in ``self.mutables`` (registered first,
    so ``named_modules`` names them there) with aliases
    ``backbone.first_channels``, ``backbone.layers.{i}.kernel_size`` /
    ``.expand_ratio`` / ``.depth`` / ``.out_channels`` (``i`` from 1),
    ``backbone.last_channels`` and, if it has several choices,
    ``backbone.last_expand_ratio``: the keys of the original MMRazor's
    subnet files. ``last_mutable_channels`` is the output width mutable, for
    a head to follow.

    State-dict keys and shapes are those of MMRazor 1.0, so its checkpoints
    load with ``strict=True``: every block has ``shortcut.conv`` (the
    identity while its input and output are equally wide) and the state
    dict holds ``first_mutable_channels.mask`` and
    ``last_mutable_channels.mask`` (see
    :func:`~mmrazor.models.architectures.backbones._elastic_blocks.register_mask_keys`).

    Args:
        arch_setting (dict): ``kernel_size``, ``num_blocks``,
            ``expand_ratio`` and ``num_out_channels`` rows as above.
        widen_factor (float): Width multiplier. Defaults to 1.0.
        out_indices (Sequence[int]): Outputs returned: ``i`` < number of
            stages is the output of stage ``i + 1``, the number of stages is
            the last conv's (N, C, 1, 1). Defaults to ``(7, )``.
        frozen_stages (int): -1 freezes nothing, 0 the first conv, ``i``
            also the first ``i`` stages. Defaults to -1.
        conv_cfg (dict): Config of the convs (a dynamic conv with elastic
            kernel). Defaults to ``dict(type='BigNasConv2d')``.
        norm_cfg (dict): Config of the norms (a dynamic norm). Defaults to
            ``dict(type='DynamicBatchNorm2d')``.
        act_cfg_list (list, optional): Activation of the first conv, of each
            stage and of the last conv (type names or configs); a longer
            list is read as MMRazor 1.0 reads it (first entry, the next one
            per stage, last entry). None or an empty list gives ``'Swish'``
            everywhere. Defaults to None.
        stride_list (list[int], optional): Stride of each stage. None or an
            empty list gives ``[1, 2, 2, 2, 1, 2, 1]``. Defaults to None.
        with_se_list (list[bool], optional): Whether each stage's blocks have
            an SE layer (squeeze 4, ReLU / HSigmoid). None or an empty list
            gives ``[False, False, True, False, True, True, True]``.
            Defaults to None.
        norm_eval (bool): Whether to keep norms in eval mode while training.
            Defaults to False.
        with_cp (bool): Whether blocks checkpoint their activations while
            training. Defaults to False.
        zero_init_residual (bool): Whether to zero the last norm of every
            block, so that each block starts as its shortcut (as BigNAS
            does). Defaults to True.
        fine_grained_mode (bool): Whether every block of a stage has its own
            kernel size and expand ratio (aliases
            ``backbone.layers.{i}.{k}.kernel_size`` / ``.expand_ratio``,
            ``k`` from 0), as in Once-for-All's space, instead of one per
            stage. Defaults to False.
        with_attentive_shortcut (bool): Whether blocks use the AttentiveNAS
            shortcut. Defaults to True.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.

    Examples:
        >>> from mmengine.config import Config
        >>> arch = Config.fromfile('configs/_base_/nas_backbones/'
        ...     'attentive_mobilenetv3_supernet.py').arch_setting
        >>> backbone = AttentiveMobileNetV3(arch)
        >>> backbone.last_mutable_channels.choices
        [1792, 1984]
    """

    #: Channel mutables whose masks the state dict holds (as MMRazor 1.0's).
    mask_key_mutables = ('first_mutable_channels', 'last_mutable_channels')

    def __init__(self,
                 arch_setting: Dict[str, List],
                 widen_factor: float = 1.,
                 out_indices: Sequence[int] = (7, ),
                 frozen_stages: int = -1,
                 conv_cfg: Dict = dict(type='BigNasConv2d'),
                 norm_cfg: Dict = dict(type='DynamicBatchNorm2d'),
                 act_cfg_list: Optional[List] = None,
                 stride_list: Optional[List[int]] = None,
                 with_se_list: Optional[List[bool]] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 fine_grained_mode: bool = False,
                 with_attentive_shortcut: bool = True,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        settings = self._parse(arch_setting, widen_factor)
        num_stages = len(settings['num_blocks'])
        stride_list = self._per_stage('stride_list', stride_list,
                                      _DEFAULT_STRIDES, num_stages)
        with_se_list = self._per_stage('with_se_list', with_se_list,
                                       _DEFAULT_SE, num_stages)
        act_cfg_list = self._activations(act_cfg_list, num_stages)
        for index in out_indices:
            if index not in range(num_stages + 1):
                raise ValueError(
                    f'AttentiveMobileNetV3: out_indices item {index} refers '
                    f'to no output; with {num_stages} stages they are 0 to '
                    f'{num_stages} (the last conv)')
        if frozen_stages not in range(-1, num_stages + 1):
            raise ValueError(
                'AttentiveMobileNetV3: frozen_stages must be in range(-1, '
                f'{num_stages + 1}), but got {frozen_stages}')
        self.arch_setting = arch_setting
        self.widen_factor = widen_factor
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual
        self.num_stages = num_stages
        self.fine_grained_mode = fine_grained_mode

        self.mutables = space_mutables(settings, fine_grained_mode)
        acts = [_act(a) for a in act_cfg_list]
        # mmcv builds conv_cfg / norm_cfg in the default scope: make it
        # mmrazor's, whatever the config's scope, so that unprefixed
        # dynamic op names resolve.
        with DefaultScope.overwrite_default_scope('mmrazor'):
            first = self.mutables['first_channels']
            self.first_conv = ConvModule(
                3, first.num_channels, 3, stride=2, padding=1,
                conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=acts[0])
            wire_conv_module(self.first_conv, 'first_conv',
                             out_channels=first)
            in_channels = first
            se_cfg = dict(ratio=4, conv_cfg=conv_cfg,
                          act_cfg=(dict(type='ReLU'), dict(type='HSigmoid')))
            for i in range(num_stages):
                layer = self._make_stage(
                    i + 1, in_channels, stride_list[i],
                    se_cfg if with_se_list[i] else None,
                    dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                         act_cfg=acts[i + 1], with_cp=with_cp,
                         with_attentive_shortcut=with_attentive_shortcut))
                self.add_module(f'layer{i + 1}', layer)
                in_channels = self.mutables['layers'][str(i + 1)][
                    'out_channels']
            self.last_conv = self._make_last_conv(
                in_channels, settings['last_expand_ratio'], conv_cfg,
                norm_cfg, acts[-1])
        register_mask_keys(self)

    @staticmethod
    def _parse(arch_setting: Dict[str, List],
               widen_factor: float) -> Dict[str, Any]:
        if not isinstance(arch_setting, dict) or \
                sorted(arch_setting) != sorted(_FIELDS):
            got = sorted(arch_setting) if isinstance(arch_setting,
                                                     dict) else arch_setting
            raise ValueError(
                f'AttentiveMobileNetV3: arch_setting must be a dict with the '
                f'keys {list(_FIELDS)}, but got {got!r}')
        values = {
            field: [range_values(row, field, i)
                    for i, row in enumerate(arch_setting[field])]
            for field in _FIELDS
        }
        num_stages = len(values['num_blocks'])
        expected = dict(kernel_size=num_stages, expand_ratio=num_stages + 1,
                        num_out_channels=num_stages + 2)
        for field, rows in expected.items():
            if len(values[field]) != rows:
                raise ValueError(
                    f"AttentiveMobileNetV3: arch_setting['{field}'] must have"
                    f' {rows} rows with {num_stages} stages (num_blocks '
                    f'rows), but has {len(values[field])}')
        channels = [[make_divisible(c * widen_factor, 8) for c in row]
                    for row in values['num_out_channels']]
        return dict(
            kernel_size=values['kernel_size'],
            num_blocks=values['num_blocks'],
            expand_ratio=values['expand_ratio'][:-1],
            last_expand_ratio=values['expand_ratio'][-1],
            first_channels=channels[0],
            out_channels=channels[1:-1],
            last_channels=channels[-1])

    @staticmethod
    def _activations(value: Optional[List], num_stages: int) -> List:
        """The first conv's, each stage's and the last conv's activation.

        As in MMRazor 1.0, a longer list is read as its first entry, the
        next ``num_stages`` ones and its last entry (its OFA config lists 9
        for 6 stages); None or an empty list is ``'Swish'`` everywhere.
        """
        if not value:
            return ['Swish'] * (num_stages + 2)
        if not isinstance(value, (list, tuple)) or \
                len(value) < num_stages + 2:
            raise ValueError(
                'AttentiveMobileNetV3: `act_cfg_list` must have at least '
                f'{num_stages + 2} entries (first conv, {num_stages} stages, '
                f'last conv) for this arch_setting, but got {value!r}')
        return [value[0], *value[1:num_stages + 1], value[-1]]

    @staticmethod
    def _per_stage(field: str, value: Optional[List], default: List,
                   length: int) -> List:
        if not value:  # None or empty: the default, as the original
            if len(default) != length:
                raise ValueError(
                    f'AttentiveMobileNetV3: the default {field} fits 7 '
                    f'stages; give one for this arch_setting ({length} '
                    'entries)')
            return list(default)
        if len(value) != length:
            raise ValueError(
                f'AttentiveMobileNetV3: `{field}` must have {length} '
                f'entries for this arch_setting, but got {value!r}')
        return list(value)

    def _make_stage(self, index: int, in_channels: OneShotMutableChannel,
                    stride: int, se_cfg: Optional[Dict],
                    block_cfg: Dict) -> DynamicSequential:
        """Build stage ``index`` (from 1) at its largest shape and wire it."""
        mutables = self.mutables['layers'][str(index)]
        out_channels = mutables['out_channels']
        blocks = []
        for k in range(mutables['depth'].max_choice):
            # fine-grained mode: each block has its own kernel and ratio
            own = mutables[str(k)] if str(k) in mutables else mutables
            block = MBBlock(
                in_channels.num_channels,
                out_channels.num_channels,
                stride=stride if k == 0 else 1,
                kernel_size=own['kernel_size'].max_choice,
                expand_ratio=own['expand_ratio'].max_choice,
                se_cfg=se_cfg,
                **block_cfg)
            wire_mb_block(block, f'layer{index}.{k}', in_channels,
                          out_channels, own['expand_ratio'],
                          own['kernel_size'])
            blocks.append(block)
            in_channels = out_channels
        stage = DynamicSequential(*blocks)
        stage.register_mutable_attr('depth', mutables['depth'])
        return stage

    def _make_last_conv(self, in_channels: OneShotMutableChannel,
                        ratios: List[int], conv_cfg: Dict, norm_cfg: Dict,
                        act_cfg: Dict) -> nn.Sequential:
        ratio: Any = self.mutables['last_expand_ratio'] \
            if 'last_expand_ratio' in self.mutables else ratios[0]
        mid = in_channels.num_channels * max(ratios)
        last = self.mutables['last_channels']
        layers = nn.Sequential(
            OrderedDict(
                final_expand_layer=ConvModule(
                    in_channels.num_channels, mid, 1, conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg, act_cfg=act_cfg),
                pool=nn.AdaptiveAvgPool2d((1, 1)),
                feature_mix_layer=ConvModule(
                    mid, last.num_channels, 1, bias=False,
                    conv_cfg=conv_cfg, norm_cfg=None, act_cfg=act_cfg)))
        hidden = hidden_width(in_channels, ratio, mid)
        wire_conv_module(layers.final_expand_layer, 'last_conv.'
                         'final_expand_layer', in_channels, hidden)
        wire_conv_module(layers.feature_mix_layer,
                         'last_conv.feature_mix_layer', hidden, last)
        return layers

    @property
    def first_mutable_channels(self) -> OneShotMutableChannel:
        """The width mutable of the first conv."""
        return self.mutables['first_channels']

    @property
    def last_mutable_channels(self) -> OneShotMutableChannel:
        """The width mutable of the output (the last conv)."""
        return self.mutables['last_channels']

    @property
    def layers(self) -> List[nn.Module]:
        """``layer1`` ... ``layer{num_stages}`` and ``last_conv``."""
        return [getattr(self, f'layer{i + 1}')
                for i in range(self.num_stages)] + [self.last_conv]

    def set_drop_path_rate(self, rate: float,
                           stages: Sequence[int] = (6, 7)) -> None:
        """Give the blocks of ``stages`` (numbered from 1) a drop path rate
        growing with depth, ``rate * i / total`` for the ``i``-th of all
        ``total`` blocks, and every other block 0.

        Args:
            rate (float): The rate a block past the last would have.
            stages (Sequence[int]): Stages with drop path. Defaults to
                ``(6, 7)``.
        """
        stages_ = self.layers[:-1]
        rates = drop_path_rates([len(s) for s in stages_], stages, rate)
        for stage, stage_rates in zip(stages_, rates):
            for block, block_rate in zip(stage, stage_rates):
                block.drop_path_rate = block_rate

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Return the outputs in ``out_indices``, in order.

        Args:
            x (Tensor): Images of shape (N, 3, H, W).

        Returns:
            tuple[Tensor]: One tensor per index of ``out_indices``.
        """
        x = self.first_conv(x)
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def init_weights(self) -> None:
        """Initialise, then zero the last norm of every block if
        ``zero_init_residual``."""
        super().init_weights()
        if self.zero_init_residual:
            for module in self.modules():
                if isinstance(module, MBBlock) and (
                        module.with_res_shortcut
                        or module.with_attentive_shortcut):
                    constant_init(module.linear_conv.norm, val=0)

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            freeze([self.first_conv] + list(self.layers[:self.frozen_stages]))

    def train(self, mode: bool = True) -> 'AttentiveMobileNetV3':
        """Set the mode, keeping frozen stages and (with ``norm_eval``) the
        norms in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            norms_to_eval(self)
        return self
