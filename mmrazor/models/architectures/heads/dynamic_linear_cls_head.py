# Copyright (c) OpenMMLab. All rights reserved.
"""A linear classification head whose input width follows a backbone."""
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcls.models.heads import ClsHead
from mmcv.cnn import build_activation_layer

from mmrazor.registry import MODELS

from ..dynamic_ops import DynamicLinear


@MODELS.register_module()
class DynamicLinearClsHead(ClsHead):
    """mmcls ``LinearClsHead`` with :class:`DynamicLinear` layers.

    The features (the last of the tuple the neck gives) go through optional
    hidden layers (``DynamicLinear`` + activation, one per entry of
    ``mid_channels``), optional dropout, and the classifier ``fc``.
    :meth:`connect_with_backbone` makes the first layer's input width follow
    a backbone's output width mutable, so the head works at every width of
    a supernet; after ``export_static_model`` its layers are plain
    ``nn.Linear``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Width of the input features (the largest).
        mid_channels (Sequence[int], optional): Widths of hidden layers.
            Defaults to None (none).
        dropout_rate (float): Dropout before ``fc``. Defaults to 0.
        act_cfg (dict): Activation of the hidden layers. Defaults to
            ``dict(type='ReLU')``.
        loss (dict): Loss config. Defaults to
            ``dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0)``.
        init_cfg (dict, optional): Initialisation config. Defaults to
            normal weights (std 0.01) for the linear layers.
        **kwargs: ``topk`` and ``cal_acc`` of mmcls ``ClsHead``.

    Examples:
        >>> head = DynamicLinearClsHead(num_classes=10, in_channels=64)
        >>> head((torch.rand(2, 64), )).shape
        torch.Size([2, 10])
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 mid_channels: Optional[Sequence[int]] = None,
                 dropout_rate: float = 0.,
                 act_cfg: Dict = dict(type='ReLU'),
                 loss: Dict = dict(type='mmcls.CrossEntropyLoss',
                                   loss_weight=1.0),
                 init_cfg: Optional[Dict] = dict(
                     type='Normal', layer='Linear', std=0.01),
                 **kwargs) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg, **kwargs)
        name = type(self).__name__
        for field, value in (('num_classes', num_classes),
                             ('in_channels', in_channels)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f'{name}: `{field}` must be a positive int,'
                                 f' but got {value!r}')
        if not 0 <= dropout_rate < 1:
            raise ValueError(f'{name}: `dropout_rate` must be in [0, 1), but'
                             f' got {dropout_rate!r}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.mid_channels = list(mid_channels or [])
        widths = [in_channels] + self.mid_channels
        self.layers = nn.ModuleList(
            nn.Sequential(
                DynamicLinear(w_in, w_out), build_activation_layer(act_cfg))
            for w_in, w_out in zip(widths[:-1], widths[1:]))
        self.dropout = nn.Dropout(dropout_rate) if dropout_rate > 0 \
            else nn.Identity()
        self.fc = DynamicLinear(widths[-1], num_classes)

    @property
    def first_linear(self) -> DynamicLinear:
        """The layer that reads the input features."""
        return self.layers[0][0] if len(self.layers) else self.fc

    def connect_with_backbone(self, backbone_output_mutable: Any) -> None:
        """Make the input width follow ``backbone_output_mutable`` (a channel
        mutable of ``in_channels`` channels)."""
        self.first_linear.register_mutable_attr('in_channels',
                                                backbone_output_mutable)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The last features after the hidden layers."""
        x = feats[-1]
        for layer in self.layers:
            x = layer(x)
        return x

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Class scores of shape (N, num_classes)."""
        return self.fc(self.dropout(self.pre_logits(feats)))
