# Copyright (c) OpenMMLab. All rights reserved.
"""Elastic attention against the paper's attention written out by hand."""
import math

import pytest
import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import (
    DynamicMultiheadAttention,
    DynamicPatchEmbed,
    DynamicRelativePosition2D,
)
from mmrazor.models.architectures.ops import (
    MultiheadAttention,
    PatchEmbed,
    RelativePosition2D,
)
from mmrazor.models.mutables import OneShotMutableChannel, OneShotMutableValue
from mmrazor.models.utils import export_static_model


def table_rows(side: int, max_rel: int):
    """Rows of the vertical / horizontal tables of every token pair, from
    the definition: offsets between patch rows (columns), clipped, shifted
    by ``max_rel + 1``; pairs with the class token (token 0) use row 0."""
    tokens = 1 + side * side
    rows_v = [[0] * tokens for _ in range(tokens)]
    rows_h = [[0] * tokens for _ in range(tokens)]
    for i in range(1, tokens):
        for j in range(1, tokens):
            (ri, ci), (rj, cj) = divmod(i - 1, side), divmod(j - 1, side)
            rows_v[i][j] = max(-max_rel, min(max_rel, rj - ri)) + max_rel + 1
            rows_h[i][j] = max(-max_rel, min(max_rel, cj - ci)) + max_rel + 1
    return rows_v, rows_h


def hand_attention(x, attn, heads, head_dims, embed, side):
    """Heads ``0..heads-1`` of ``attn`` on the first ``embed`` features,
    one token pair at a time."""
    rows_v, rows_h = table_rows(side, attn.max_relative_position)
    tokens = x.shape[1]
    outs = []
    for h in range(heads):
        feats = slice(h * head_dims, (h + 1) * head_dims)

        def proj(linear, feats=feats):
            return x @ linear.weight[feats, :embed].T + linear.bias[feats]

        q, k, v = proj(attn.w_qs), proj(attn.w_ks), proj(attn.w_vs)
        tables = {}
        for name in ('rel_pos_embed_k', 'rel_pos_embed_v'):
            rel = getattr(attn, name)
            tables[name] = (rel.embeddings_table_v[:, :head_dims],
                            rel.embeddings_table_h[:, :head_dims])
        out = torch.zeros(x.shape[0], tokens, head_dims)
        for i in range(tokens):
            logits = []
            for j in range(tokens):
                tv, th = tables['rel_pos_embed_k']
                r_k = tv[rows_v[i][j]] + th[rows_h[i][j]]
                logits.append((q[:, i] * (k[:, j] + r_k)).sum(-1))
            weights = torch.softmax(
                torch.stack(logits, -1) / math.sqrt(head_dims), dim=-1)
            for j in range(tokens):
                tv, th = tables['rel_pos_embed_v']
                r_v = tv[rows_v[i][j]] + th[rows_h[i][j]]
                out[:, i] += weights[:, j:j + 1] * (v[:, j] + r_v)
        outs.append(out)
    cat = torch.cat(outs, dim=-1)
    width = heads * head_dims
    return cat @ attn.proj.weight[:embed, :width].T + attn.proj.bias[:embed]


@pytest.fixture
def attention():
    torch.manual_seed(0)
    attn = DynamicMultiheadAttention(16, 4, head_dims=4,
                                     max_relative_position=1)
    with torch.no_grad():  # away from the near-zero initial tables
        for rel in (attn.rel_pos_embed_k, attn.rel_pos_embed_v):
            rel.embeddings_table_v.normal_()
            rel.embeddings_table_h.normal_()
    return attn.eval()


@pytest.mark.parametrize('heads,embed', [(4, 16), (2, 12), (1, 8)])
def test_head_subset_is_the_papers_attention(attention, heads, embed):
    num_heads = OneShotMutableValue([1, 2, 3, 4])
    embed_dims = OneShotMutableChannel(16, [8, 12, 16])
    attention.register_mutable_attr('num_heads', num_heads)
    attention.register_mutable_attr('embed_dims', embed_dims)
    num_heads.current_choice, embed_dims.current_choice = heads, embed
    x = torch.randn(2, 10, embed)  # a class token and 3x3 patches
    expected = hand_attention(x, attention, heads, 4, embed, side=3)
    with torch.no_grad():
        assert (attention(x) - expected).abs().max() <= 1e-5
        static = attention.to_static_op().eval()
        assert type(static) is MultiheadAttention
        assert (static.num_heads, static.embed_dims) == (heads, embed)
        assert (static(x) - expected).abs().max() <= 1e-5
    assert static.w_qs.weight.shape == (heads * 4, embed)
    assert static.rel_pos_embed_k.embeddings_table_v.shape == (4, 4)


def test_q_embed_dims_and_head_size(attention):
    """Elastic q-k-v features: 2 heads of 3 features (of 4)."""
    heads = OneShotMutableValue([2, 4])
    q_dims = OneShotMutableChannel(16, [6, 16])
    attention.register_mutable_attr('num_heads', heads)
    attention.register_mutable_attr('q_embed_dims', q_dims)
    heads.current_choice, q_dims.current_choice = 2, 6
    assert attention.active_shape() == (2, 3)
    x = torch.randn(1, 10, 16)
    expected = hand_attention(x, attention, 2, 3, 16, side=3)
    with torch.no_grad():
        assert (attention(x) - expected).abs().max() <= 1e-5
        static = export_static_model(nn.Sequential(attention))
        assert type(static[0]) is MultiheadAttention
        assert (static(x) - expected).abs().max() <= 1e-5
    heads.current_choice = 4
    with pytest.raises(ValueError, match='6 q_embed_dims do not split into '
                       '4 heads'):
        attention(x)


def test_relative_position_rows_match_the_definition():
    rel = RelativePosition2D(2, max_relative_position=1)
    with torch.no_grad():
        rel.embeddings_table_v.copy_(torch.arange(4.)[:, None].repeat(1, 2))
        rel.embeddings_table_h.zero_()
    rows_v, _ = table_rows(4, 1)
    assert rel(17, 17)[..., 0].tolist() == [[float(r) for r in row]
                                           for row in rows_v]
    with pytest.raises(ValueError, match='square grid'):
        rel(13, 13)


def test_relative_position_and_patch_embed_export():
    rel = DynamicRelativePosition2D(8, 2)
    dims = OneShotMutableChannel(8, [4, 8])
    rel.register_mutable_attr('head_dims', dims)
    dims.current_choice = 4
    static = rel.to_static_op()
    assert type(static) is RelativePosition2D and static.head_dims == 4
    assert torch.equal(static(10, 10), rel(10, 10))
    embed = DynamicPatchEmbed(32, 8, 3, 24)
    width = OneShotMutableChannel(24, [16, 24])
    embed.register_mutable_attr('embed_dims', width)
    width.current_choice = 16
    x = torch.randn(2, 3, 32, 32)
    static = embed.to_static_op()
    assert type(static) is PatchEmbed and static.embed_dims == 16
    with torch.no_grad():
        assert embed(x).shape == (2, 16, 16)
        assert (static(x) - embed(x)).abs().max() <= 1e-6


def test_bad_mutables(attention):
    with pytest.raises(ValueError, match=r'ints in \[1, 4\]'):
        attention.register_mutable_attr('num_heads',
                                        OneShotMutableValue([2, 5]))
    with pytest.raises(ValueError, match='num_channels=12'):
        attention.register_mutable_attr('embed_dims',
                                        OneShotMutableChannel(12, [12]))
    with pytest.raises(ValueError, match='no mutable attribute'):
        attention.register_mutable_attr('depth', OneShotMutableValue([1]))
    with pytest.raises(ValueError, match='multiple of patch_size'):
        PatchEmbed(30, 8)
    assert isinstance(attention.w_qs, nn.Linear)
