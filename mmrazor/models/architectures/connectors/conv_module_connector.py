# Copyright (c) OpenMMLab. All rights reserved.
"""Connectors made of one mmcv conv/norm/act block or one norm layer."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmcv.cnn import ConvModule, build_norm_layer

from mmrazor.registry import MODELS
from mmrazor.utils.validators import check_positive_int

from .base_connector import BaseConnector

_LAYERS = ('conv', 'norm', 'act')


# 'ConvModuleConncetor': the original MMRazor's spelling, kept for its configs.
@MODELS.register_module(name=['ConvModuleConnector', 'ConvModuleConncetor'])
class ConvModuleConnector(BaseConnector):
    """A conv/norm/activation block (:class:`mmcv.cnn.ConvModule`) that maps
    a student feature to the teacher's channels, as in FitNets' regressor.

    The arguments after ``out_channel`` are those of
    :class:`mmcv.cnn.ConvModule` and mean the same.

    Args:
        in_channel (int): Channels of the input feature.
        out_channel (int): Channels of the output feature.
        kernel_size (int or tuple[int]): Size of the conv kernel.
            Defaults to 1.
        stride (int or tuple[int]): Stride of the conv. Defaults to 1.
        padding (int or tuple[int]): Zero padding of the conv. Defaults to 0.
        dilation (int or tuple[int]): Dilation of the conv. Defaults to 1.
        groups (int): Groups of the conv. Defaults to 1.
        bias (bool or str): Whether the conv has a bias; ``'auto'`` gives it
            one only when there is no norm layer. Defaults to 'auto'.
        conv_cfg (dict, optional): Conv layer config. Defaults to None,
            a plain ``nn.Conv2d``.
        norm_cfg (dict, optional): Norm layer config. Defaults to None.
        act_cfg (dict, optional): Activation config. Defaults to
            ``dict(type='ReLU')``.
        inplace (bool): Whether the activation runs in place.
            Defaults to True.
        with_spectral_norm (bool): Whether to apply spectral norm to the
            conv. Defaults to False.
        padding_mode (str): Padding mode of the conv. Defaults to 'zeros'.
        order (tuple[str]): Order of ``'conv'``, ``'norm'`` and ``'act'``.
            Defaults to ('conv', 'norm', 'act').
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.

    Examples:
        >>> connector = ConvModuleConnector(8, 16, norm_cfg=dict(type='BN'))
        >>> connector(torch.rand(2, 8, 6, 6)).shape
        torch.Size([2, 16, 6, 6])
    """

    def __init__(self,
                 in_channel: int,
                 out_channel: int,
                 kernel_size: Union[int, Tuple[int, int]] = 1,
                 stride: Union[int, Tuple[int, int]] = 1,
                 padding: Union[int, Tuple[int, int]] = 0,
                 dilation: Union[int, Tuple[int, int]] = 1,
                 groups: int = 1,
                 bias: Union[str, bool] = 'auto',
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = None,
                 act_cfg: Optional[Dict] = dict(type='ReLU'),
                 inplace: bool = True,
                 with_spectral_norm: bool = False,
                 padding_mode: str = 'zeros',
                 order: Tuple[str, ...] = ('conv', 'norm', 'act'),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        check_positive_int(self, 'in_channel', in_channel)
        check_positive_int(self, 'out_channel', out_channel)
        if not isinstance(order, (tuple, list)) or \
                sorted(order) != sorted(_LAYERS):
            raise ValueError(f'{type(self).__name__}: `order` must be a '
                             f'permutation of {_LAYERS}, but got {order!r}')
        if bias != 'auto' and not isinstance(bias, bool):
            raise ValueError(f'{type(self).__name__}: `bias` must be a bool '
                             f"or 'auto', but got {bias!r}")
        self.conv_module = ConvModule(
            in_channel,
            out_channel,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            inplace=inplace,
            with_spectral_norm=with_spectral_norm,
            padding_mode=padding_mode,
            order=tuple(order))

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Apply the conv/norm/act block."""
        return self.conv_module(feature)


@MODELS.register_module()
class NormConnector(BaseConnector):
    """One normalisation layer built from ``norm_cfg``, e.g. to normalise a
    teacher feature before a feature-mimicking loss.

    Args:
        in_channels (int): Channels of the input feature.
        norm_cfg (dict): Norm layer config, e.g. ``dict(type='BN')``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 norm_cfg: Dict,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        check_positive_int(self, 'in_channels', in_channels)
        if not isinstance(norm_cfg, dict) or 'type' not in norm_cfg:
            raise ValueError(f'{type(self).__name__}: `norm_cfg` must be a '
                             "dict with a 'type' key, e.g. dict(type='BN'), "
                             f'but got {norm_cfg!r}')
        _, self.norm = build_norm_layer(norm_cfg, in_channels)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Normalise ``feature``."""
        return self.norm(feature)
