# Copyright (c) OpenMMLab. All rights reserved.
"""A searchable backbone and a candidate op defined outside mmrazor.

Nothing in the mmrazor package is edited: importing this module registers
``TinySearchableNet`` and ``TinySepConv`` into ``mmrazor.registry.MODELS``.
A config imports it through ``custom_imports`` and then names the backbone
``mmrazor.TinySearchableNet``; see ``tiny_spos_config.py`` and the README.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmcls.models.backbones.base_backbone import BaseBackbone
from mmcv.cnn import ConvModule
from mmengine.model import Sequential
from torch import Tensor

from mmrazor.models.architectures.ops import BaseOP
from mmrazor.registry import MODELS


@MODELS.register_module()
class TinySepConv(BaseOP):
    """A candidate op: depthwise k x k conv, then pointwise conv.

    Like every candidate op it takes ``in_channels``, ``out_channels`` and
    ``stride``, which the backbone passes through ``module_kwargs``; the
    other arguments come from the candidate's config.

    Args:
        in_channels (int): Channels of the input.
        out_channels (int): Channels of the output.
        stride (int): Stride of the depthwise conv, 1 or 2.
        kernel_size (int): Kernel size of the depthwise conv. Defaults to 3.
        norm_cfg (dict): Config of the norm layers. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int,
                 kernel_size: int = 3,
                 norm_cfg: Dict = dict(type='BN'),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        self.depthwise = ConvModule(
            in_channels,
            in_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=in_channels,
            norm_cfg=norm_cfg,
            act_cfg=None)
        self.pointwise = ConvModule(
            in_channels, out_channels, 1, norm_cfg=norm_cfg)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))


@MODELS.register_module()
class TinySearchableNet(BaseBackbone):
    """A small searchable backbone for 32x32 images, built from a table.

    A 3x3 stem conv (stride 1) is followed by one layer per row of
    ``arch_setting``. Every block of a layer is built from the row's
    ``mutable_cfg`` through ``MODELS.build``; the backbone adds
    ``module_kwargs`` (``in_channels``, ``out_channels``, ``stride``) so the
    same config serves every position. Only the first block of a layer uses
    the row's stride.

    Args:
        arch_setting (list[list]): One row per layer:
            ``[out_channels, num_blocks, stride, mutable_cfg]``.
        stem_channels (int): Channels of the stem conv. Defaults to 16.
        out_indices (Sequence[int]): Layers whose outputs are returned.
            Defaults to ``(-1, )``, the last layer.
        norm_cfg (dict): Config of the stem's norm layer. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 arch_setting: List[List],
                 stem_channels: int = 16,
                 out_indices: Sequence[int] = (-1, ),
                 norm_cfg: Dict = dict(type='BN'),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        num_layers = len(arch_setting)
        self.out_indices = []
        for index in out_indices:
            if not -num_layers <= index < num_layers:
                raise ValueError(
                    f'TinySearchableNet: out_indices must lie in '
                    f'[-{num_layers}, {num_layers - 1}] for {num_layers} '
                    f'layers, but got {index}')
            self.out_indices.append(index % num_layers)

        self.stem = ConvModule(
            3, stem_channels, 3, padding=1, norm_cfg=norm_cfg)
        self.in_channels = stem_channels
        self.layers = nn.ModuleList()
        for row in arch_setting:
            out_channels, num_blocks, stride, mutable_cfg = row
            self.layers.append(
                self._make_layer(out_channels, num_blocks, stride,
                                 mutable_cfg))

    def _make_layer(self, out_channels: int, num_blocks: int, stride: int,
                    mutable_cfg: Dict) -> Sequential:
        """Build ``num_blocks`` blocks from ``mutable_cfg``.

        Args:
            out_channels (int): Output channels of every block.
            num_blocks (int): Number of blocks.
            stride (int): Stride of the first block; the others use 1.
            mutable_cfg (dict): Config of one block, usually a mutable such
                as ``OneShotMutableOP``.

        Returns:
            mmengine.model.Sequential: The layer.
        """
        blocks = []
        for i in range(num_blocks):
            cfg = copy.deepcopy(mutable_cfg)
            cfg['module_kwargs'] = dict(
                in_channels=self.in_channels,
                out_channels=out_channels,
                stride=stride if i == 0 else 1)
            # An mmcls config makes 'mmcls' the default scope; build the
            # block in the mmrazor scope unless the config says otherwise.
            cfg.setdefault('_scope_', 'mmrazor')
            blocks.append(MODELS.build(cfg))
            self.in_channels = out_channels
        return Sequential(*blocks)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Return the outputs of the layers in ``out_indices``.

        Args:
            x (Tensor): Images of shape (N, 3, H, W).

        Returns:
            tuple[Tensor]: One feature map per index of ``out_indices``.
        """
        x = self.stem(x)
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
