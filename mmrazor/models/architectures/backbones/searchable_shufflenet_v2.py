# Copyright (c) OpenMMLab. All rights reserved.
"""The SPOS ShuffleNetV2 supernet backbone."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmcls.models.backbones.base_backbone import BaseBackbone
from mmcv.cnn import ConvModule
from mmengine.model import ModuleList, Sequential
from mmengine.model.weight_init import constant_init, normal_init
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.registry import MODELS, in_mmrazor_scope

from .._checkpointing import checkpointed, freeze, norms_to_eval
from ._arch_setting import check_layer_setting


@MODELS.register_module()
class SearchableShuffleNetV2(BaseBackbone):
    """ShuffleNetV2 supernet of SPOS, built from ``arch_setting``.

    Guo et al., "Single Path One-Shot Neural Architecture Search with Uniform
    Sampling", ECCV 2020 (https://arxiv.org/abs/1904.00420).

    The network is a stride-2 3x3 stem conv, one layer per ``arch_setting``
    row (the first block of each layer has stride 2) and, if
    ``with_last_layer``, a 1x1 conv to 1024 channels. Each block is built
    from the row's ``mutable_cfg`` through ``MODELS.build``, with
    ``in_channels``, ``out_channels`` and ``stride`` passed as
    ``module_kwargs``, so any mutable (or plain op) config can be searched.

    Args:
        arch_setting (list[list]): One row per layer:
            ``[channel, num_blocks, mutable_cfg]``.
        stem_multiplier (int): The stem has ``16 * stem_multiplier``
            channels. Defaults to 1.
        widen_factor (float): Width multiplier of the layers' channels.
            Defaults to 1.0.
        out_indices (Sequence[int]): Layers whose outputs are returned; 0 to 3
            are the searchable layers and 4 the last layer. Defaults to
            ``(4, )``.
        frozen_stages (int): Stages to freeze (eval mode, no gradients); -1
            freezes nothing, 0 the stem, ``i`` the stem and the first ``i``
            layers. Defaults to -1.
        with_last_layer (bool): Whether to add the last 1x1 conv. Defaults
            to True.
        conv_cfg (dict, optional): Config of the conv layers. Defaults to
            None.
        norm_cfg (dict): Config of the norm layers. Defaults to
            ``dict(type='BN')``.
        act_cfg (dict): Config of the activations. Defaults to
            ``dict(type='ReLU')``.
        norm_eval (bool): Whether to keep the norm layers in eval mode while
            training (frozen statistics). Defaults to False.
        with_cp (bool): Whether to use activation checkpointing on the
            blocks while training: saves memory at the cost of a second
            forward in the backward pass. Defaults to False.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.

    Examples:
        >>> stage = dict(type='OneShotMutableOP', candidates=dict(
        ...     shuffle_3x3=dict(type='ShuffleBlock', kernel_size=3),
        ...     shuffle_xception=dict(type='ShuffleXception')))
        >>> backbone = SearchableShuffleNetV2(
        ...     arch_setting=[[64, 1, stage], [160, 1, stage]],
        ...     out_indices=(1, ), with_last_layer=False)
    """

    def __init__(self,
                 arch_setting: List[List],
                 stem_multiplier: int = 1,
                 widen_factor: float = 1.0,
                 out_indices: Sequence[int] = (4, ),
                 frozen_stages: int = -1,
                 with_last_layer: bool = True,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),
                 act_cfg: Dict = dict(type='ReLU'),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        layers_nums = 5 if with_last_layer else 4
        for index in out_indices:
            if index not in range(0, layers_nums):
                raise ValueError('the item in out_indices must in '
                                 f'range(0, 5). But received {index}')

        if frozen_stages not in range(-1, layers_nums):
            raise ValueError('frozen_stages must be in range(-1, 5). '
                             f'But received {frozen_stages}')

        super().__init__(init_cfg)

        self.frozen_stages = frozen_stages
        self.arch_setting = arch_setting
        self.widen_factor = widen_factor
        self.out_indices = out_indices
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp

        last_channels = 1024
        self.in_channels = 16 * stem_multiplier

        # build the first layer
        self.conv1 = ConvModule(
            in_channels=3,
            out_channels=self.in_channels,
            kernel_size=3,
            stride=2,
            padding=1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

        # build the middle layers
        self.layers = ModuleList()
        for row, setting in enumerate(arch_setting):
            if not isinstance(setting, (list, tuple)) or len(setting) != 3:
                raise ValueError(
                    f'arch_setting[{row}] must be [channel, num_blocks, '
                    f'mutable_cfg], but received {setting!r}')
            channel, num_blocks, mutable_cfg = setting
            check_layer_setting('SearchableShuffleNetV2', row, channel,
                                num_blocks)
            out_channels = round(channel * widen_factor)
            layer = self._make_layer(out_channels, num_blocks,
                                     copy.deepcopy(mutable_cfg))
            self.layers.append(layer)

        # build the last layer
        if with_last_layer:
            self.layers.append(
                ConvModule(
                    in_channels=self.in_channels,
                    out_channels=last_channels,
                    kernel_size=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg))

        # The checks above follow the layout of the SPOS space (4 layers);
        # an arch_setting with another number of rows has other indices.
        if frozen_stages > len(self.layers):
            raise ValueError(
                f'frozen_stages {frozen_stages} exceeds the {len(self.layers)}'
                f' layers of this backbone ({len(arch_setting)} arch_setting '
                f'rows, with_last_layer={with_last_layer}); use -1 to '
                f'{len(self.layers)}')
        for index in out_indices:
            if index >= len(self.layers):
                raise ValueError(
                    f'out_indices item {index} refers to no layer: with '
                    f'{len(arch_setting)} arch_setting rows and '
                    f'with_last_layer={with_last_layer} the backbone has '
                    f'{len(self.layers)} layers (indices 0 to '
                    f'{len(self.layers) - 1})')

    def _make_layer(self, out_channels: int, num_blocks: int,
                    mutable_cfg: Dict) -> Sequential:
        """Stack mutable blocks to build a layer for ShuffleNet V2.

        Note:
            Here we use ``module_kwargs`` to pass dynamic parameters such as
            ``in_channels``, ``out_channels`` and ``stride`` to build the
            mutable.

        Args:
            out_channels (int): out_channels of the block.
            num_blocks (int): number of blocks.
            mutable_cfg (dict): Config of mutable.

        Returns:
            mmengine.model.Sequential: The layer made.
        """
        layers = []
        for i in range(num_blocks):
            stride = 2 if i == 0 else 1

            mutable_cfg.update(
                module_kwargs=dict(
                    in_channels=self.in_channels,
                    out_channels=out_channels,
                    stride=stride))
            layers.append(MODELS.build(in_mmrazor_scope(mutable_cfg)))
            self.in_channels = out_channels

        return Sequential(*layers)

    def _freeze_stages(self) -> None:
        """Freeze the stem and the first ``frozen_stages`` layers."""
        if self.frozen_stages >= 0:
            freeze([self.conv1] + list(self.layers[:self.frozen_stages]))

        for i in range(self.frozen_stages):
            m = self.layers[i]
            m.eval()
            for param in m.parameters():
                param.requires_grad = False

    def init_weights(self) -> None:
        """Initialise convs with small normal weights and norms with ones.

        The stem conv gets std 0.01, other convs std ``1 / fan_in channels``
        (as in the SPOS reference). Skipped when ``init_cfg`` loads a
        pretrained checkpoint.
        """
        super().init_weights()

        init_cfgs = self.init_cfg if isinstance(self.init_cfg,
                                                list) else [self.init_cfg]
        if any(
                isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'
                for cfg in init_cfgs):
            # Suppress default init if use pretrained model.
            return

        for name, m in self.named_modules():
            if isinstance(m, nn.Conv2d):
                if name.startswith('conv1'):
                    normal_init(m, mean=0, std=0.01)
                else:
                    normal_init(m, mean=0, std=1.0 / m.weight.shape[1])
            elif isinstance(m, (_BatchNorm, nn.GroupNorm)):
                constant_init(m, val=1, bias=0.0001)
                if isinstance(m, _BatchNorm) and m.running_mean is not None:
                    nn.init.constant_(m.running_mean, 0)

    def _run_layer(self, layer: nn.Module, x: Tensor) -> Tensor:
        """Run a layer, block by block under checkpointing if ``with_cp``."""
        if not (self.with_cp and self.training and x.requires_grad):
            return layer(x)
        blocks = layer if isinstance(layer, nn.Sequential) else [layer]
        for block in blocks:
            x = checkpointed(block, block, x)
        return x

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
            x = self._run_layer(layer, x)
            if i in self.out_indices:
                outs.append(x)

        return tuple(outs)

    def train(self, mode: bool = True) -> 'SearchableShuffleNetV2':
        """Set train mode, keeping frozen stages and (if ``norm_eval``) the
        norm layers in eval mode.

        Args:
            mode (bool): Whether to set training mode. Defaults to True.
        """
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            norms_to_eval(self)
        return self
