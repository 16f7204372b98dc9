# Copyright (c) OpenMMLab. All rights reserved.
"""Wide residual networks for small images (CIFAR)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule, constant_init

from mmrazor.registry import MODELS


class WideBasicBlock(nn.Module):
    """Pre-activation basic block: BN-ReLU-conv3x3, BN-ReLU-conv3x3.

    The shortcut adds the input, or, when the shape changes, a 1x1 conv of
    the pre-activated input (``downsample``). Module names are those of the
    original MMRazor (``bn1``, ``conv1``, ``bn2``, ``conv2``,
    ``downsample``), so its checkpoints load.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first conv. Defaults to 1.
        dilation (int): Dilation of the first conv. Defaults to 1.
        droprate (float): Dropout between the convs. Defaults to 0.
        conv_cfg (dict, optional): Conv layer config. Defaults to None.
        norm_cfg (dict): Norm layer config. Defaults to BN.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 dilation: int = 1,
                 droprate: float = 0.,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN')) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.droprate = droprate
        self.bn1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.relu1 = nn.ReLU()
        self.conv1 = build_conv_layer(
            conv_cfg, in_channels, out_channels, 3, stride=stride,
            padding=dilation, dilation=dilation, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu2 = nn.ReLU()
        self.conv2 = build_conv_layer(
            conv_cfg, out_channels, out_channels, 3, padding=1, bias=False)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = build_conv_layer(
                conv_cfg, in_channels, out_channels, 1, stride=stride,
                bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(pre)))
        if self.droprate > 0:
            out = F.dropout(out, p=self.droprate, training=self.training)
        out = self.conv2(out)
        return out + (x if self.downsample is None else self.downsample(pre))


@MODELS.register_module()
class WideResNet(BaseModule):
    """A 3-stage wide ResNet (WRN-depth-k) for CIFAR-sized images.

    Zagoruyko and Komodakis, "Wide Residual Networks", BMVC 2016. A stem
    conv, three stages of ``(depth - 4) / 6`` pre-activation blocks of
    ``base_channels * widen_factor * 2**i`` channels, then BN-ReLU. The
    output is a 1-tuple of the last feature map. Names and defaults are the
    original MMRazor's ``WideResNet`` (its OFD teacher/student configs).

    Args:
        depth (int): 10, 16, 22, 28 or 40.
        widen_factor (int): Width multiplier k. Defaults to 4.
        in_channels (int): Image channels. Defaults to 3.
        stem_channels (int): Stem conv channels. Defaults to 16.
        base_channels (int): Channels of the first stage before widening.
            Defaults to 16.
        expansion (int, optional): Overrides ``widen_factor`` as the
            width multiplier. Defaults to None.
        num_stages (int): 1 to 3. Defaults to 3.
        strides (Sequence[int]): First-block stride per stage.
        dilations (Sequence[int]): Dilation per stage.
        frozen_stages (int): Stages (and the stem, from 0) frozen; -1 none.
        conv_cfg (dict, optional): Conv layer config.
        norm_cfg (dict): Norm layer config.
        norm_eval (bool): Keep norm layers in eval mode in training.
        zero_init_residual (bool): Zero the last norm of every block.
        init_cfg (dict | list): Initialisation config.
    """

    arch_setting = {10: 1, 16: 2, 22: 3, 28: 4, 40: 6}

    def __init__(self,
                 depth: int,
                 widen_factor: int = 4,
                 in_channels: int = 3,
                 stem_channels: int = 16,
                 base_channels: int = 16,
                 expansion: Optional[int] = None,
                 num_stages: int = 3,
                 strides: Sequence[int] = (1, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1),
                 frozen_stages: int = -1,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 zero_init_residual: bool = False,
                 init_cfg: Union[Dict, List[Dict]] = [
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1,
                          layer=['_BatchNorm', 'GroupNorm'])
                 ]) -> None:
        super().__init__(init_cfg)
        if depth not in self.arch_setting:
            raise KeyError(f'WideResNet: depth {depth!r} is not one of '
                           f'{sorted(self.arch_setting)}')
        if not 1 <= num_stages <= 3 or len(strides) < num_stages or \
                len(dilations) < num_stages:
            raise ValueError(
                f'WideResNet: num_stages must be 1 to 3 with a stride and a '
                f'dilation per stage, got num_stages={num_stages}, '
                f'strides={strides}, dilations={dilations}')
        self.depth, self.widen_factor = depth, widen_factor
        self.expansion = widen_factor if expansion is None else expansion
        self.num_stages, self.frozen_stages = num_stages, frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual
        self.conv1 = build_conv_layer(conv_cfg, in_channels, stem_channels,
                                      3, padding=1, bias=False)
        self.res_layers = []
        channels_in = stem_channels
        channels = base_channels * self.expansion
        for i in range(num_stages):
            blocks = [
                WideBasicBlock(channels_in if j == 0 else channels, channels,
                               stride=strides[i] if j == 0 else 1,
                               dilation=dilations[i], conv_cfg=conv_cfg,
                               norm_cfg=norm_cfg)
                for j in range(self.arch_setting[depth])
            ]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            self.res_layers.append(f'layer{i + 1}')
            channels_in, channels = channels, channels * 2
        self.feat_dim = channels_in
        self.bn1 = build_norm_layer(norm_cfg, channels_in)[1]
        self.relu = nn.ReLU()
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        frozen = [self.conv1] if self.frozen_stages >= 0 else []
        frozen += [getattr(self, f'layer{i}')
                   for i in range(1, self.frozen_stages + 1)]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def init_weights(self) -> None:
        super().init_weights()
        pretrained = isinstance(self.init_cfg, dict) and \
            self.init_cfg.get('type') == 'Pretrained'
        if self.zero_init_residual and not pretrained:
            for module in self.modules():
                if isinstance(module, WideBasicBlock):
                    constant_init(module.bn2, 0)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.conv1(x)
        for name in self.res_layers:
            x = getattr(self, name)(x)
        return (self.relu(self.bn1(x)), )

    def train(self, mode: bool = True) -> 'WideResNet':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self
