# Copyright (c) OpenMMLab. All rights reserved.
"""DeiTClsHead: class-token scores, the distillation token's layer run for
recorders, the original MMRazor's keys."""
import pytest
import torch

from mmrazor.registry import MODELS

ARCH = dict(embed_dims=32, num_layers=1, num_heads=2,
            feedforward_channels=64)


def _backbone():
    return MODELS.build(dict(type='mmcls.DistilledVisionTransformer',
                             arch=ARCH, img_size=32, patch_size=16,
                             output_cls_token=True))


@pytest.mark.parametrize('hidden_dim', [None, 16])
def test_deit_head_scores_and_dist_token(hidden_dim):
    torch.manual_seed(0)
    head = MODELS.build(dict(type='mmrazor.DeiTClsHead', num_classes=5,
                             in_channels=32, hidden_dim=hidden_dim))
    keys = set(head.state_dict())
    assert {'layers.head.weight', 'layers.head_dist.weight'} <= keys
    assert ('layers.pre_logits.weight' in keys) == (hidden_dim is not None)
    feats = _backbone()(torch.randn(2, 3, 32, 32))
    seen = []
    head.layers.head_dist.register_forward_hook(
        lambda m, i, o: seen.append(o))
    scores = head(feats)
    assert scores.shape == (2, 5) and seen[0].shape == (2, 5)
    cls_token, dist_token = head.pre_logits(feats)
    assert torch.allclose(scores, head.layers.head(cls_token))
    assert torch.allclose(seen[0], head.layers.head_dist(dist_token))


def test_deit_head_names_a_backbone_without_tokens():
    head = MODELS.build(dict(type='mmrazor.DeiTClsHead', num_classes=5,
                             in_channels=32))
    with pytest.raises(ValueError, match='output_cls_token=True'):
        head((torch.randn(2, 32, 2, 2), ))
