# Copyright (c) OpenMMLab. All rights reserved.
"""The classification head of a distilled DeiT, trained by a distiller."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmcls.models import VisionTransformerClsHead

from mmrazor.registry import MODELS


@MODELS.register_module()
class DeiTClsHead(VisionTransformerClsHead):
    """A ViT head with a second linear layer for the distillation token.

    Touvron et al., "Training data-efficient image transformers &
    distillation through attention", ICML 2021. The backbone (mmcls
    ``DistilledVisionTransformer`` with ``output_cls_token=True``) returns
    ``(patch tokens, class token, distillation token)`` per stage. The
    class token goes through ``layers.head`` and gives the scores that the
    head's loss and predictions use; the distillation token goes through
    ``layers.head_dist``, whose output a distiller records (e.g.
    ``ModuleOutputs`` of ``head.layers.head_dist``) and matches to a
    teacher. mmcls' own ``DeiTClsHead`` instead averages both in testing
    and refuses to train.

    Arguments are those of mmcls ``VisionTransformerClsHead``
    (``num_classes``, ``in_channels``, ``hidden_dim``, ``act_cfg``, ...);
    with ``hidden_dim``, both tokens pass the same hidden layer.
    """

    def _init_layers(self) -> None:
        super()._init_layers()
        width = self.in_channels if self.hidden_dim is None \
            else self.hidden_dim
        self.layers.add_module('head_dist',
                               nn.Linear(width, self.num_classes))

    def pre_logits(
        self, feats: Sequence[Sequence[torch.Tensor]]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The class and distillation tokens of the last stage, through
        the hidden layer if there is one."""
        last = feats[-1]
        if not isinstance(last, (list, tuple)) or len(last) != 3:
            raise ValueError(
                'DeiTClsHead needs (patch tokens, class token, distillation '
                'token) from the last stage: build the backbone as mmcls '
                'DistilledVisionTransformer with output_cls_token=True')
        _, cls_token, dist_token = last
        if self.hidden_dim is not None:
            cls_token = self.layers.act(self.layers.pre_logits(cls_token))
            dist_token = self.layers.act(self.layers.pre_logits(dist_token))
        return cls_token, dist_token

    def forward(self, feats: Sequence[List[torch.Tensor]]) -> torch.Tensor:
        """The class-token scores; ``layers.head_dist`` runs on the
        distillation token so that recorders see its output."""
        cls_token, dist_token = self.pre_logits(feats)
        self.layers.head_dist(dist_token)
        return self.layers.head(cls_token)
