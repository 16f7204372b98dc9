# Copyright (c) OpenMMLab. All rights reserved.
"""Vision transformer ops of the Autoformer space: patch embedding,
multi-head attention with 2D relative position encoding, and the layer
made of them."""
import math
from typing import Dict, Optional, Tuple, Type

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model.weight_init import trunc_normal_


def relative_position_index(num_tokens: int, max_relative_position: int,
                            device: Optional[torch.device] = None
                            ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Rows of the vertical and horizontal tables for every token pair.

    The tokens are a class token followed by the patches of a square grid,
    row by row. For two patches the row (column) offset, clipped to
    ``[-max_relative_position, max_relative_position]``, selects row
    ``offset + max_relative_position + 1`` of the vertical (horizontal)
    table; every pair with the class token selects row 0.

    Args:
        num_tokens (int): ``1 + side * side``.
        max_relative_position (int): The largest offset told apart.
        device (torch.device, optional): Device of the result.

    Returns:
        tuple[Tensor, Tensor]: Two ``(num_tokens, num_tokens)`` long
        tensors.
    """
    patches = num_tokens - 1
    side = math.isqrt(patches) if patches > 0 else 0
    if patches <= 0 or side * side != patches:
        raise ValueError(
            'Relative position encoding needs a class token and a square '
            f'grid of patches, but got {num_tokens} tokens (a square input '
            'whose size is a multiple of the patch size gives one)')
    pos = torch.arange(patches, device=device)
    rows, cols = pos // side, pos % side
    index = []
    for coord in (rows, cols):
        offset = (coord[None, :] - coord[:, None]).clamp(
            -max_relative_position, max_relative_position)
        table_row = offset + max_relative_position + 1
        index.append(nn.functional.pad(table_row, (1, 0, 1, 0), value=0))
    return index[0], index[1]


class RelativePosition2D(nn.Module):
    """Image relative position encoding (iRPE) of one attention head size.

    Wu et al., "Rethinking and Improving Relative Position Encoding for
    Vision Transformer", ICCV 2021 (https://arxiv.org/abs/2107.14222), as
    Autoformer uses it: the encoding of a token pair is the sum of a row of
    ``embeddings_table_v`` (by the vertical offset of the two patches) and
    a row of ``embeddings_table_h`` (by the horizontal one); row 0 encodes
    the pairs with the class token.

    Args:
        head_dims (int): Size of an encoding (of an attention head).
        max_relative_position (int): The largest offset told apart.
            Defaults to 14.
    """

    def __init__(self, head_dims: int, max_relative_position: int = 14):
        super().__init__()
        self.head_dims = head_dims
        self.max_relative_position = max_relative_position
        rows = 2 * max_relative_position + 2
        self.embeddings_table_v = nn.Parameter(torch.zeros(rows, head_dims))
        self.embeddings_table_h = nn.Parameter(torch.zeros(rows, head_dims))
        trunc_normal_(self.embeddings_table_v, std=.02)
        trunc_normal_(self.embeddings_table_h, std=.02)

    def tables(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The vertical and horizontal tables used in the forward."""
        return self.embeddings_table_v, self.embeddings_table_h

    def forward(self, length_q: int, length_k: int) -> torch.Tensor:
        """Encodings of all token pairs, ``(length_q, length_k, dims)``."""
        if length_q != length_k:
            raise ValueError('RelativePosition2D encodes self-attention: '
                             f'length_q ({length_q}) must equal length_k '
                             f'({length_k})')
        table_v, table_h = self.tables()
        index_v, index_h = relative_position_index(
            length_q, self.max_relative_position, table_v.device)
        return table_v[index_v] + table_h[index_h]


class MultiheadAttention(nn.Module):
    """Multi-head self-attention with 2D relative position encoding.

    For heads of ``head_dims`` features, ``q``, ``k`` and ``v`` come from
    ``w_qs``, ``w_ks`` and ``w_vs``; the attention of head ``h`` is
    ``softmax(scale * (q_i . k_j + q_i . r^k_ij))`` and its output
    ``sum_j a_ij (v_j + r^v_ij)``, with ``r^k`` / ``r^v`` the relative
    encodings of ``rel_pos_embed_k`` / ``rel_pos_embed_v`` (when
    ``relative_position``); ``proj`` maps the heads back to
    ``embed_dims``. ``scale`` is ``qk_scale`` or ``head_dims ** -0.5``.

    Args:
        embed_dims (int): Input and output features.
        num_heads (int): Attention heads.
        head_dims (int): Features of a head. Defaults to 64 (Autoformer's).
        attn_drop_rate (float): Dropout of the attention weights.
            Defaults to 0.
        proj_drop_rate (float): Dropout after ``proj``. Defaults to 0.
        relative_position (bool): Whether to add relative position
            encodings. Defaults to True.
        max_relative_position (int): Their largest offset. Defaults to 14.
        qkv_bias (bool): Whether ``w_qs``/``w_ks``/``w_vs`` have biases.
            Defaults to True.
        qk_scale (float, optional): See above. Defaults to None.
        proj_bias (bool): Whether ``proj`` has a bias. Defaults to True.
    """

    relative_position_cls = RelativePosition2D
    linear_cls = nn.Linear

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 head_dims: int = 64,
                 attn_drop_rate: float = 0.,
                 proj_drop_rate: float = 0.,
                 relative_position: bool = True,
                 max_relative_position: int = 14,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 proj_bias: bool = True) -> None:
        super().__init__()
        for name, value in (('embed_dims', embed_dims),
                            ('num_heads', num_heads),
                            ('head_dims', head_dims)):
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < 1:
                raise ValueError(f'{type(self).__name__}: `{name}` must be '
                                 f'a positive int, but got {value!r}')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.head_dims = head_dims
        self.qk_scale = qk_scale
        self.relative_position = relative_position
        self.max_relative_position = max_relative_position
        q_embed_dims = num_heads * head_dims
        self.w_qs = self.linear_cls(embed_dims, q_embed_dims, bias=qkv_bias)
        self.w_ks = self.linear_cls(embed_dims, q_embed_dims, bias=qkv_bias)
        self.w_vs = self.linear_cls(embed_dims, q_embed_dims, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop_rate)
        self.proj_drop = nn.Dropout(proj_drop_rate)
        self.proj = self.linear_cls(q_embed_dims, embed_dims, bias=proj_bias)
        if relative_position:
            self.rel_pos_embed_k = self.relative_position_cls(
                head_dims, max_relative_position)
            self.rel_pos_embed_v = self.relative_position_cls(
                head_dims, max_relative_position)

    @property
    def q_embed_dims(self) -> int:
        """Features of all heads together (at full size)."""
        return self.num_heads * self.head_dims

    def active_shape(self) -> Tuple[int, int]:
        """The number of heads and the features of a head."""
        return self.num_heads, self.head_dims

    def _encodings(self, module: nn.Module, tokens: int,
                   head_dims: int) -> torch.Tensor:
        return module(tokens, tokens)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attention over the tokens of ``x`` (N, tokens, embed_dims)."""
        batch, tokens, _ = x.shape
        num_heads, head_dims = self.active_shape()

        def heads(linear: nn.Module) -> torch.Tensor:
            return linear(x).view(batch, tokens, num_heads,
                                  head_dims).transpose(1, 2)

        q, k, v = heads(self.w_qs), heads(self.w_ks), heads(self.w_vs)
        scale = self.qk_scale or head_dims**-0.5
        attn = q @ k.transpose(-2, -1)
        if self.relative_position:
            r_k = self._encodings(self.rel_pos_embed_k, tokens, head_dims)
            attn = attn + torch.einsum('bhid,ijd->bhij', q, r_k)
        attn = self.attn_drop((attn * scale).softmax(dim=-1))
        out = attn @ v
        if self.relative_position:
            r_v = self._encodings(self.rel_pos_embed_v, tokens, head_dims)
            out = out + torch.einsum('bhij,ijd->bhid', attn, r_v)
        out = out.transpose(1, 2).reshape(batch, tokens,
                                          num_heads * head_dims)
        return self.proj_drop(self.proj(out))


class PatchEmbed(nn.Module):
    """Image to patch tokens: a ``patch_size`` strided convolution.

    Args:
        img_size (int): Input size the positional embedding is made for.
            Defaults to 224.
        patch_size (int): Patch size (kernel and stride). Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        embed_dims (int): Token features. Defaults to 768.
    """

    conv_cls = nn.Conv2d

    def __init__(self,
                 img_size: int = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 embed_dims: int = 768) -> None:
        super().__init__()
        if img_size % patch_size:
            raise ValueError(
                f'PatchEmbed: img_size ({img_size}) must be a multiple of '
                f'patch_size ({patch_size})')
        self.img_size = img_size
        self.patch_size = patch_size
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.projection = self.conv_cls(in_channels, embed_dims, patch_size,
                                        stride=patch_size)

    @property
    def num_patches(self) -> int:
        """Patches of an ``img_size`` input."""
        return (self.img_size // self.patch_size)**2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, patches, embed_dims)."""
        return self.projection(x).flatten(2).transpose(1, 2)


class TransformerEncoderLayer(nn.Module):
    """An Autoformer layer: ``x + attn(ln1(x))``, then
    ``x + fc2(act(fc1(ln2(x))))``, each branch with stochastic depth.

    Args:
        embed_dims (int): Token features.
        num_heads (int): Attention heads.
        mlp_ratio (float): Hidden width of the MLP over ``embed_dims``.
        head_dims (int): Features of an attention head. Defaults to 64.
        proj_drop_rate (float): Dropout after the attention's projection.
            Defaults to 0.
        attn_drop_rate (float): Dropout of the attention weights.
            Defaults to 0.
        drop_path_rate (float): Stochastic depth of both branches.
            Defaults to 0.
        qkv_bias (bool): Whether q, k, v have biases. Defaults to True.
        max_relative_position (int): Largest relative offset encoded.
            Defaults to 14.
        act_cfg (dict): The MLP's activation. Defaults to GELU.
        norm_cfg (dict, optional): The norms. Defaults to None: a layer
            norm (a dynamic one in :class:`DynamicTransformerEncoderLayer`).
    """

    attention_cls: Type[nn.Module] = MultiheadAttention
    linear_cls: Type[nn.Module] = nn.Linear
    default_norm_cfg: Dict = dict(type='LN')

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 mlp_ratio: float,
                 head_dims: int = 64,
                 proj_drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 qkv_bias: bool = True,
                 max_relative_position: int = 14,
                 act_cfg: Dict = dict(type='GELU'),
                 norm_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        norm_cfg = norm_cfg or self.default_norm_cfg
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, embed_dims, 1)
        self.add_module(self.norm1_name, norm1)
        self.attn = self.attention_cls(
            embed_dims,
            num_heads,
            head_dims,
            attn_drop_rate=attn_drop_rate,
            proj_drop_rate=proj_drop_rate,
            max_relative_position=max_relative_position,
            qkv_bias=qkv_bias)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, embed_dims, 2)
        self.add_module(self.norm2_name, norm2)
        middle = int(round(embed_dims * mlp_ratio))
        self.fc1 = self.linear_cls(embed_dims, middle)
        self.fc2 = self.linear_cls(middle, embed_dims)
        self.act = build_activation_layer(act_cfg)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 \
            else nn.Identity()

    @property
    def norm1(self) -> nn.Module:
        """The norm before the attention."""
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        """The norm before the MLP."""
        return getattr(self, self.norm2_name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(
            self.fc2(self.act(self.fc1(self.norm2(x)))))
