# Copyright (c) OpenMMLab. All rights reserved.
import math

import pytest
import torch

from mmrazor.registry import MODELS


def inputs(seed=0, n=2, c=3, h=2, w=2):
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.rand(*shape, generator=gen, dtype=torch.float64)

    s_input = (rand(n, 1, h, w), rand(n, c, 1, 1), rand(n, c), rand(n, 1, h,
                                                                     w),
               rand(n, h * w, h * w), rand(n, c, h, w))
    t_input = (rand(n, 1, h, w), rand(n, c, 1, 1), rand(n, 1, h, w),
               rand(n, h * w, h * w), rand(n, c, h, w))
    return s_input, t_input


def l2(a, b):
    return math.sqrt(sum((x - y)**2 for x, y in zip(a.reshape(-1).tolist(),
                                                    b.reshape(-1).tolist())))


def test_fbkd_matches_weighted_sum_of_terms():
    s_input, t_input = inputs()
    s_mask, _, s_channel, s_spatial, s_rel, s_feat = s_input
    t_mask, _, t_spatial, t_rel, t_feat = t_input
    n, c, h, w = t_feat.shape
    masked = 0.0
    for i in range(n):
        for ch in range(c):
            for a in range(h):
                for b in range(w):
                    mask = (s_mask[i, 0, a, b] + t_mask[i, 0, a, b]) / 2
                    masked += mask.item() * (t_feat[i, ch, a, b] -
                                             s_feat[i, ch, a, b]).item()**2
    t_channel = torch.tensor([[t_feat[i, ch].mean().item() for ch in range(c)]
                              for i in range(n)], dtype=t_feat.dtype)
    weights = dict(mask_l2_weight=1.0, channel_weight=2.0,
                   spatial_weight=3.0, nonlocal_weight=4.0)
    expected = (math.sqrt(masked) + 2 * l2(t_channel, s_channel) +
                3 * l2(t_spatial, s_spatial) + 4 * l2(t_rel, s_rel))
    loss = MODELS.build(dict(type='mmrazor.FBKDLoss', loss_weight=0.5,
                             **weights))(s_input, t_input)
    assert loss.item() == pytest.approx(0.5 * expected, rel=1e-9)


def test_fbkd_accepts_original_misspelled_argument():
    with pytest.warns(UserWarning, match='nonloacl_weight'):
        loss = MODELS.build(dict(type='mmrazor.FBKDLoss',
                                 nonloacl_weight=0.25))
    assert loss.nonlocal_weight == 0.25


def test_fbkd_gradient_reaches_student_and_errors():
    s_input, t_input = inputs(seed=1)
    s_input = tuple(x.requires_grad_() for x in s_input)
    MODELS.build(dict(type='mmrazor.FBKDLoss'))(s_input, t_input).backward()
    assert s_input[5].grad.abs().sum() > 0
    assert s_input[0].grad is None  # the attention mask is not imitated
    with pytest.raises(ValueError, match='t_input must hold 5'):
        MODELS.build(dict(type='mmrazor.FBKDLoss'))(s_input, t_input[:4])
    bad = t_input[:4] + (torch.rand(2, 4, 2, 2, dtype=torch.float64), )
    with pytest.raises(ValueError, match=r's_feat_adapt \(2, 3, 2, 2\).*'
                       r't_feat \(2, 4, 2, 2\)'):
        MODELS.build(dict(type='mmrazor.FBKDLoss'))(s_input, bad)
    with pytest.raises(ValueError, match=r'FBKDLoss: `channel_weight`.*-1'):
        MODELS.build(dict(type='mmrazor.FBKDLoss', channel_weight=-1))
