# Copyright (c) OpenMMLab. All rights reserved.
"""The classification head of DARTS subnets, with the auxiliary loss."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmcls.models.heads import ClsHead
from mmcls.registry import MODELS as MMCLS_MODELS
from mmcls.structures import ClsDataSample

from mmrazor.registry import MODELS


@MODELS.register_module()
class DartsSubnetClsHead(ClsHead):
    """A linear head on the last feature plus an auxiliary linear head on
    the first one (the auxiliary tower's, present in training only).

    Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019
    (https://arxiv.org/abs/1806.09055): retraining adds the auxiliary
    tower's cross-entropy with weight 0.4. The losses are the main head's
    (``loss``, ``accuracy_top-k``) and the auxiliary ones prefixed with
    ``aux_head.``. Prediction uses the main head only.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the last feature.
        aux_in_channels (int): Channels of the auxiliary feature.
        aux_loss (dict | nn.Module): The auxiliary loss; its weight is the
            auxiliary weight. Defaults to
            ``dict(type='CrossEntropyLoss', loss_weight=0.4)``.
        loss (dict | nn.Module): The main loss. Defaults to
            ``dict(type='CrossEntropyLoss', loss_weight=1.0)``.
        topk (int | tuple[int]): Accuracies logged. Defaults to (1, ).
        cal_acc (bool): Whether to log training accuracies. Defaults to
            False.
        init_cfg (dict, optional): Defaults to normal linear weights
            (std 0.01).

    Examples:
        >>> head = DartsSubnetClsHead(10, 8, aux_in_channels=6)
        >>> head((torch.rand(2, 6), torch.rand(2, 8))).shape
        torch.Size([2, 10])
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 aux_in_channels: int,
                 aux_loss: Union[Dict, nn.Module] = dict(
                     type='CrossEntropyLoss', loss_weight=0.4),
                 loss: Union[Dict, nn.Module] = dict(
                     type='CrossEntropyLoss', loss_weight=1.0),
                 topk: Union[int, Tuple[int]] = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[Dict] = dict(
                     type='Normal', layer='Linear', std=0.01)) -> None:
        super().__init__(
            loss=loss, topk=topk, cal_acc=cal_acc, init_cfg=init_cfg)
        for field, value in (('num_classes', num_classes),
                             ('in_channels', in_channels),
                             ('aux_in_channels', aux_in_channels)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f'DartsSubnetClsHead: `{field}` must be a '
                                 f'positive int, but got {value!r}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.fc = nn.Linear(in_channels, num_classes)
        self.aux_linear = nn.Linear(aux_in_channels, num_classes)
        self.aux_loss_module = aux_loss if isinstance(
            aux_loss, nn.Module) else MMCLS_MODELS.build(aux_loss)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The last feature."""
        return feats[-1]

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Scores of the main head."""
        return self.fc(self.pre_logits(feats))

    def loss(self, feats: Tuple[torch.Tensor],
             data_samples: List[ClsDataSample], **kwargs) -> Dict:
        """Main losses, plus the ``aux_head.`` ones when ``feats`` holds the
        auxiliary feature (more than one feature)."""
        losses = super().loss(feats, data_samples, **kwargs)
        if len(feats) < 2:
            if self.training:
                raise ValueError(
                    'DartsSubnetClsHead got one feature in training: the '
                    'backbone must return the auxiliary feature first; build '
                    'DartsBackbone with auxiliary=True')
            return losses
        main_loss_module = self.loss_module
        self.loss_module = self.aux_loss_module
        try:
            aux = self._get_loss(
                self.aux_linear(feats[0]), data_samples, **kwargs)
        finally:
            self.loss_module = main_loss_module
        losses.update({f'aux_head.{k}': v for k, v in aux.items()})
        return losses
