# Copyright (c) OpenMMLab. All rights reserved.
"""The SPOS MobileNet supernet backbone."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmcls.models.backbones.base_backbone import BaseBackbone
from mmcv.cnn import ConvModule
from mmengine.model import Sequential
from torch import Tensor

from mmrazor.registry import MODELS, in_mmrazor_scope

from ...mutables import make_divisible
from .._checkpointing import freeze, norms_to_eval
from ._arch_setting import check_layer_setting

_DEFAULT_INIT = [
    dict(type='Kaiming', layer=['Conv2d']),
    dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
]


@MODELS.register_module(name=['SearchableMobileNetV2', 'SearchableMobileNet'])
class SearchableMobileNetV2(BaseBackbone):
    """MobileNetV2-like supernet of SPOS, built from ``arch_setting``.

    Guo et al., "Single Path One-Shot Neural Architecture Search with Uniform
    Sampling", ECCV 2020 (https://arxiv.org/abs/1904.00420), on the
    MobileNetV2 layout (Sandler et al., CVPR 2018). The network is a
    stride-2 3x3 stem conv (``conv1``), one layer per ``arch_setting`` row
    (``layer1``, ``layer2``...; the first block of a layer has the row's
    stride) and a 1x1 conv to ``last_channels`` (``conv2``). Every block is
    built from the row's ``mutable_cfg`` through ``MODELS.build`` with
    ``in_channels``, ``out_channels`` and ``stride`` as ``module_kwargs``:
    in the SPOS space an ``OneShotMutableOP`` of ``MBBlock`` candidates
    (kernel 3/5/7, expand ratio 3/6) and ``Identity``. Channel counts are
    multiplied by ``widen_factor`` and rounded to multiples of 8.
    ``'SearchableMobileNet'`` is an alias of this class.

    Args:
        arch_setting (list[list]): One row per layer:
            ``[channel, num_blocks, stride, mutable_cfg]``.
        first_channels (int): Channels of the stem conv. Defaults to 32.
        last_channels (int): Channels of the last conv (scaled only when
            ``widen_factor > 1``). Defaults to 1280.
        widen_factor (float): Width multiplier. Defaults to 1.0.
        out_indices (Sequence[int]): Layers whose outputs are returned:
            0 .. len(arch_setting) - 1 are the layers, len(arch_setting)
            the last conv. Defaults to ``(7, )``.
        frozen_stages (int): -1 freezes nothing, 0 the stem, ``i`` the stem
            and the first ``i`` layers. Defaults to -1.
        conv_cfg (dict, optional): Config of the stem and last convs.
            Defaults to None.
        norm_cfg (dict): Config of their norms. Defaults to
            ``dict(type='BN')``.
        act_cfg (dict): Config of their activations. Defaults to
            ``dict(type='ReLU6')``.
        norm_eval (bool): Whether to keep the norms in eval mode while
            training. Defaults to False.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to Kaiming convs and unit norms.

    Examples:
        >>> block = dict(type='OneShotMutableOP', candidates=dict(
        ...     mb_k3e3=dict(type='MBBlock', kernel_size=3, expand_ratio=3),
        ...     identity=dict(type='Identity')))
        >>> backbone = SearchableMobileNetV2(
        ...     arch_setting=[[16, 1, 1, block], [24, 2, 2, block]],
        ...     last_channels=64, out_indices=(2, ))
    """

    def __init__(self,
                 arch_setting: List[List],
                 first_channels: int = 32,
                 last_channels: int = 1280,
                 widen_factor: float = 1.,
                 out_indices: Sequence[int] = (7, ),
                 frozen_stages: int = -1,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU6'),
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = copy.deepcopy(
                     _DEFAULT_INIT)) -> None:
        super().__init__(init_cfg)
        num_layers = len(arch_setting) + 1
        for index in out_indices:
            if index not in range(num_layers):
                raise ValueError(
                    f'SearchableMobileNetV2: out_indices item {index} refers '
                    f'to no layer; with {len(arch_setting)} arch_setting '
                    f'rows the indices are 0 to {num_layers - 1} (the last '
                    f'is the last conv)')
        if frozen_stages not in range(-1, num_layers):
            raise ValueError(
                f'SearchableMobileNetV2: frozen_stages must be in '
                f'range(-1, {num_layers}), but got {frozen_stages}')
        self.arch_setting = arch_setting
        self.widen_factor = widen_factor
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.in_channels = make_divisible(first_channels * widen_factor, 8)
        self.conv1 = ConvModule(
            3,
            self.in_channels,
            3,
            stride=2,
            padding=1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

        self.layer_names = []
        for row, setting in enumerate(arch_setting):
            if not isinstance(setting, (list, tuple)) or len(setting) != 4:
                raise ValueError(
                    f'SearchableMobileNetV2: arch_setting[{row}] must be '
                    f'[channel, num_blocks, stride, mutable_cfg], but got '
                    f'{setting!r}')
            channel, num_blocks, stride, mutable_cfg = setting
            check_layer_setting('SearchableMobileNetV2', row, channel,
                                num_blocks)
            out_channels = make_divisible(channel * widen_factor, 8)
            name = f'layer{row + 1}'
            self.add_module(
                name,
                self._make_layer(out_channels, num_blocks, stride,
                                 mutable_cfg))
            self.layer_names.append(name)

        self.out_channels = int(last_channels * widen_factor) \
            if widen_factor > 1.0 else last_channels
        self.conv2 = ConvModule(
            self.in_channels,
            self.out_channels,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.layer_names.append('conv2')

    def _make_layer(self, out_channels: int, num_blocks: int, stride: int,
                    mutable_cfg: Dict) -> Sequential:
        """Build ``num_blocks`` blocks from ``mutable_cfg``; the first has
        ``stride``."""
        blocks = []
        for i in range(num_blocks):
            cfg = copy.deepcopy(dict(mutable_cfg))
            cfg['module_kwargs'] = dict(
                in_channels=self.in_channels,
                out_channels=out_channels,
                stride=stride if i == 0 else 1)
            blocks.append(MODELS.build(in_mmrazor_scope(cfg)))
            self.in_channels = out_channels
        return Sequential(*blocks)

    @property
    def layers(self) -> List[nn.Module]:
        """The layers in order: ``layer1`` ... and ``conv2``."""
        return [getattr(self, name) for name in self.layer_names]

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Return the outputs of the layers in ``out_indices``, in order.

        Args:
            x (Tensor): Images of shape (N, 3, H, W).

        Returns:
            tuple[Tensor]: One feature map per index of ``out_indices``.
        """
        x = self.conv1(x)
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            freeze([self.conv1] + list(self.layers[:self.frozen_stages]))

    def train(self, mode: bool = True) -> 'SearchableMobileNetV2':
        """Set the mode, keeping frozen stages and (with ``norm_eval``) the
        norms in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            norms_to_eval(self)
        return self
