# Copyright (c) OpenMMLab. All rights reserved.
"""The Autoformer vision transformer supernet and its static subnets."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type

import torch
import torch.nn as nn
from mmcls.models.backbones.base_backbone import BaseBackbone
from mmcls.models.utils import resize_pos_embed
from mmcv.cnn import build_norm_layer
from mmengine.model.weight_init import trunc_normal_
from mmengine.registry import DefaultScope

from mmrazor.registry import MODELS

from ...mutables import (
    DerivedMutable,
    OneShotMutableChannel,
    OneShotMutableValue,
)
from ..dynamic_ops import (
    DynamicLinear,
    DynamicMultiheadAttention,
    DynamicOpMixin,
    DynamicPatchEmbed,
    DynamicSequential,
)
from ..ops import PatchEmbed, TransformerEncoderLayer
from ._elastic_blocks import hidden_width, register_mask_keys

_FIELDS = ('mlp_ratios', 'num_heads', 'depth', 'embed_dims')
_DYNAMIC_NORM = dict(type='mmrazor.DynamicLayerNorm')
_STATE_DICT_HOOKS = ('_state_dict_hooks', '_state_dict_pre_hooks',
                     '_load_state_dict_pre_hooks',
                     '_load_state_dict_post_hooks')


def _as_static(module: nn.Module, cls: Type[nn.Module],
               drop: Sequence[str]) -> nn.Module:
    """``module``'s parameters, buffers and children (but ``drop``) in an
    instance of its static class ``cls``, without state-dict hooks."""
    static = cls.__new__(cls)
    static.__dict__.update(module.__dict__)
    for key in ('_modules', '_parameters', '_buffers'):
        static.__dict__[key] = {
            k: v
            for k, v in module.__dict__[key].items() if k not in drop
        }
    for key in _STATE_DICT_HOOKS:
        if key in static.__dict__:
            static.__dict__[key] = OrderedDict()
    return static


class DynamicTransformerEncoderLayer(TransformerEncoderLayer,
                                     DynamicOpMixin):
    """A :class:`TransformerEncoderLayer` of dynamic ops, built at its
    largest shape; :meth:`register_mutables` makes it follow the mutables of
    its layer and its export is the static layer without them. Arguments
    are those of :class:`TransformerEncoderLayer`."""

    attention_cls = DynamicMultiheadAttention
    linear_cls = DynamicLinear
    default_norm_cfg = _DYNAMIC_NORM
    accepted_mutable_attrs: Tuple[str, ...] = ()
    #: Channel mutables whose masks the state dict holds (as MMRazor 1.0's).
    mask_key_mutables = ('mutable_embed_dims', 'mutable_head_dims')
    #: Attributes holding (or deriving) mutables; the export drops them.
    mutable_names = ('mutable_mlp_ratios', 'mutable_q_embed_dims',
                     'middle_channels', 'mutable_embed_dims',
                     'mutable_head_dims')

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        register_mask_keys(self)

    def register_mutables(self, num_heads: OneShotMutableValue,
                          mlp_ratio: OneShotMutableValue,
                          head_dims: OneShotMutableChannel,
                          embed_dims: OneShotMutableChannel) -> None:
        """Follow the layer's mutables.

        The attention runs ``num_heads`` heads of ``head_dims`` features
        (``q_embed_dims`` derived as their product), the MLP's hidden width
        is ``round(embed_dims * mlp_ratio)`` and every op reads and writes
        the first ``embed_dims`` token features.
        """
        self.mutable_mlp_ratios = mlp_ratio
        self.mutable_q_embed_dims = DerivedMutable.scaled(
            [num_heads, head_dims], num_channels=self.attn.q_embed_dims)
        self.middle_channels = hidden_width(embed_dims, mlp_ratio,
                                            self.fc1.out_features)
        self.mutable_embed_dims = embed_dims
        self.mutable_head_dims = head_dims
        self.attn.register_mutable_attr('num_heads', num_heads)
        self.attn.register_mutable_attr('q_embed_dims',
                                        self.mutable_q_embed_dims)
        self.attn.register_mutable_attr('embed_dims', embed_dims)
        for rel in (self.attn.rel_pos_embed_k, self.attn.rel_pos_embed_v):
            rel.register_mutable_attr('head_dims', head_dims)
        for norm in (self.norm1, self.norm2):
            norm.register_mutable_attr('num_features', embed_dims)
        self.fc1.register_mutable_attr('in_channels', embed_dims)
        self.fc1.register_mutable_attr('out_channels', self.middle_channels)
        self.fc2.register_mutable_attr('in_channels', self.middle_channels)
        self.fc2.register_mutable_attr('out_channels', embed_dims)

    def to_static_op(self) -> TransformerEncoderLayer:
        """The static layer (its ops, converted before it, are static)."""
        return _as_static(self, TransformerEncoderLayer, self.mutable_names)


@MODELS.register_module()
class AutoformerSubnet(BaseBackbone):
    """A vision transformer with relative position encodings and a shape
    fixed per layer: a subnet of :class:`AutoformerBackbone`, as its static
    export gives it.

    Patch tokens (:class:`PatchEmbed`) after a class token, plus
    ``pos_embed`` (bicubically resized for inputs of another size than
    ``img_size``), go through :class:`TransformerEncoderLayer` s
    (``blocks``) and a final layer norm; the output is the mean of the
    patch tokens.

    Args:
        embed_dims (int): Token features.
        num_heads (Sequence[int]): Attention heads of each layer.
        mlp_ratios (Sequence[float]): MLP ratio of each layer.
        img_size (int): Input size of ``pos_embed``. Defaults to 224.
        patch_size (int): Patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        head_dims (int): Features of an attention head. Defaults to 64.
        drop_rate (float): Dropout after the position embedding and the
            attention projections. Defaults to 0.
        drop_path_rate (float): Stochastic depth of the last layer, growing
            linearly from 0 at the first. Defaults to 0.
        qkv_bias (bool): Whether q, k, v have biases. Defaults to True.
        max_relative_position (int): Largest relative offset encoded.
            Defaults to 14.
        norm_cfg (dict, optional): The norms. Defaults to None: layer norms.
        act_cfg (dict): The MLPs' activation. Defaults to GELU.
        use_final_norm (bool): Whether to norm the tokens at the end.
            Defaults to True.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    patch_embed_cls: Type[nn.Module] = PatchEmbed
    layer_cls: Type[nn.Module] = TransformerEncoderLayer
    sequential_cls: Type[nn.Module] = nn.Sequential

    def __init__(self,
                 embed_dims: int,
                 num_heads: Sequence[int],
                 mlp_ratios: Sequence[float],
                 img_size: int = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 head_dims: int = 64,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 qkv_bias: bool = True,
                 max_relative_position: int = 14,
                 norm_cfg: Optional[Dict] = None,
                 act_cfg: Dict = dict(type='GELU'),
                 use_final_norm: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if len(num_heads) != len(mlp_ratios) or not num_heads:
            raise ValueError(
                f'{type(self).__name__}: num_heads and mlp_ratios give one '
                f'value per layer, but got {list(num_heads)} and '
                f'{list(mlp_ratios)}')
        norm_cfg = norm_cfg or self.layer_cls.default_norm_cfg
        self.img_size = img_size
        self.patch_size = patch_size
        self.use_final_norm = use_final_norm
        self.patch_embed = self.patch_embed_cls(img_size, patch_size,
                                                in_channels, embed_dims)
        self.patch_resolution = (img_size // patch_size, ) * 2
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.patch_embed.num_patches + 1, embed_dims))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        trunc_normal_(self.pos_embed, std=.02)
        trunc_normal_(self.cls_token, std=.02)
        self.drop_after_pos = nn.Dropout(p=drop_rate)
        depth = len(num_heads)
        rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        # mmcv builds norm_cfg in the default scope: make it mmrazor's.
        with DefaultScope.overwrite_default_scope('mmrazor'):
            self.blocks = self.sequential_cls(*[
                self.layer_cls(
                    embed_dims, heads, ratio, head_dims,
                    proj_drop_rate=drop_rate, drop_path_rate=rate,
                    qkv_bias=qkv_bias,
                    max_relative_position=max_relative_position,
                    act_cfg=act_cfg, norm_cfg=norm_cfg)
                for heads, ratio, rate in zip(num_heads, mlp_ratios, rates)
            ])
            if use_final_norm:
                self.norm1_name, norm1 = build_norm_layer(
                    norm_cfg, embed_dims)
                self.add_module(self.norm1_name, norm1)

    @property
    def norm1(self) -> nn.Module:
        """The final norm."""
        return getattr(self, self.norm1_name)

    def _active_embed_dims(self) -> int:
        return self.cls_token.shape[-1]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        """(N, C, H, W) images -> ``(mean of the patch tokens, )``."""
        batch, _, height, width = x.shape
        x = self.patch_embed(x)
        dims = self._active_embed_dims()
        cls_token = self.cls_token[..., :dims].expand(batch, -1, -1)
        x = torch.cat((cls_token, x), dim=1)
        pos_embed = self.pos_embed[..., :dims]
        grid = (height // self.patch_size, width // self.patch_size)
        if grid != tuple(self.patch_resolution):
            pos_embed = resize_pos_embed(pos_embed, self.patch_resolution,
                                         grid, num_extra_tokens=1)
        x = self.drop_after_pos(x + pos_embed)
        x = self.blocks(x)
        if self.use_final_norm:
            x = self.norm1(x)
        return (torch.mean(x[:, 1:], dim=1), )


@MODELS.register_module()
class AutoformerBackbone(AutoformerSubnet, DynamicOpMixin):
    """The Autoformer supernet: a ViT whose embedding dim, depth and, per
    layer, attention heads and MLP ratio are searched.

    Chen et al., "AutoFormer: Searching Transformers for Visual
    Recognition", ICCV 2021 (https://arxiv.org/abs/2107.00651). The weights
    of all choices are entangled: a subnet uses the first ``embed_dims``
    features of every token and weight, the first ``depth`` layers, the
    first heads of each attention (``q_embed_dims = num_heads * head_dims``)
    and the first hidden units of each MLP. Layers use 2D relative position
    encodings; the output is the mean of the patch tokens after the final
    norm. The static export is an :class:`AutoformerSubnet`.

    Mutables and state-dict keys are those of MMRazor 1.0 (its subnet
    files and checkpoints load as they are): ``mutable_depth``,
    ``mutable_embed_dims`` (also ``last_mutable``, for the head),
    ``base_embed_dims`` (the head size, one choice), and per layer ``i``
    ``blocks.{i}.attn.mutable_attrs.num_heads`` and
    ``blocks.{i}.mutable_mlp_ratios``.

    Args:
        arch_setting (dict): Choices of ``mlp_ratios``, ``num_heads``,
            ``depth`` and ``embed_dims`` (lists).
        img_size (int): Input size of ``pos_embed``. Defaults to 224.
        patch_size (int): Patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        head_dims (int): Features of an attention head. Defaults to 64
            (Autoformer's).
        drop_rate (float): Dropout after the position embedding and the
            attention projections. Defaults to 0.
        drop_path_rate (float): Stochastic depth of the last layer, growing
            linearly from 0 at the first. Defaults to 0.
        qkv_bias (bool): Whether q, k, v have biases. Defaults to True.
        max_relative_position (int): Largest relative offset encoded.
            Defaults to 14.
        norm_cfg (dict): The norms (dynamic). Defaults to
            ``dict(type='mmrazor.DynamicLayerNorm')``.
        act_cfg (dict): The MLPs' activation. Defaults to GELU.
        use_final_norm (bool): Whether to norm the tokens at the end.
            Defaults to True.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> backbone = AutoformerBackbone(dict(
        ...     mlp_ratios=[3.0, 3.5, 4.0], num_heads=[8, 9, 10],
        ...     depth=[14, 15, 16], embed_dims=[528, 576, 624]))
        >>> backbone.mutable_embed_dims.choices
        [528, 576, 624]
    """

    patch_embed_cls = DynamicPatchEmbed
    layer_cls = DynamicTransformerEncoderLayer
    sequential_cls = DynamicSequential
    accepted_mutable_attrs: Tuple[str, ...] = ()
    mask_key_mutables = ('mutable_embed_dims', 'base_embed_dims',
                         'last_mutable')
    mutable_names = ('mutable_depth', 'mutable_embed_dims', 'base_embed_dims',
                     'last_mutable')

    def __init__(self,
                 arch_setting: Dict[str, List],
                 img_size: int = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 head_dims: int = 64,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 qkv_bias: bool = True,
                 max_relative_position: int = 14,
                 norm_cfg: Dict = _DYNAMIC_NORM,
                 act_cfg: Dict = dict(type='GELU'),
                 use_final_norm: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        setting = self._parse(arch_setting)
        depth = max(setting['depth'])
        super().__init__(
            max(setting['embed_dims']), [max(setting['num_heads'])] * depth,
            [max(setting['mlp_ratios'])] * depth, img_size, patch_size,
            in_channels, head_dims, drop_rate, drop_path_rate, qkv_bias,
            max_relative_position, norm_cfg, act_cfg, use_final_norm,
            init_cfg)
        self.arch_setting = arch_setting
        self.mutable_depth = OneShotMutableValue(setting['depth'])
        self.mutable_embed_dims = OneShotMutableChannel(
            max(setting['embed_dims']), setting['embed_dims'])
        self.base_embed_dims = OneShotMutableChannel(head_dims, [head_dims])
        # the mutables come first in named_modules(), as in MMRazor 1.0
        for name in reversed(self.mutable_names[:3]):
            self._modules = {name: self._modules.pop(name),
                             **self._modules}
        self.last_mutable = self.mutable_embed_dims
        self._register_mutables(setting['num_heads'], setting['mlp_ratios'])
        register_mask_keys(self)

    @staticmethod
    def _parse(arch_setting: Any) -> Dict[str, List]:
        if not isinstance(arch_setting, dict) or \
                sorted(arch_setting) != sorted(_FIELDS):
            got = sorted(arch_setting) if isinstance(arch_setting,
                                                     dict) else arch_setting
            raise ValueError(
                'AutoformerBackbone: arch_setting must be a dict with the '
                f'keys {list(_FIELDS)} (lists of choices), but got {got!r}')
        for field in _FIELDS:
            values = arch_setting[field]
            kinds = (int, float) if field == 'mlp_ratios' else (int, )
            if not isinstance(values, (list, tuple)) or not values or any(
                    isinstance(v, bool) or not isinstance(v, kinds) or v <= 0
                    for v in values):
                raise ValueError(
                    f"AutoformerBackbone: arch_setting['{field}'] must be a "
                    f'non-empty list of positive numbers, but got {values!r}')
        return {field: list(arch_setting[field]) for field in _FIELDS}

    def _register_mutables(self, heads: List[int],
                           ratios: List[float]) -> None:
        """One number of heads and one MLP ratio per layer; the layers, the
        patch embedding and the final norm follow the shared mutables."""
        self.blocks.register_mutable_attr('depth', self.mutable_depth)
        self.patch_embed.register_mutable_attr('embed_dims',
                                               self.mutable_embed_dims)
        for block in self.blocks:
            block.register_mutables(
                OneShotMutableValue(heads), OneShotMutableValue(ratios),
                self.base_embed_dims, self.mutable_embed_dims)
        if self.use_final_norm:
            self.norm1.register_mutable_attr('num_features',
                                             self.mutable_embed_dims)

    def _active_embed_dims(self) -> int:
        return self.mutable_embed_dims.activated_channels

    def active_own_params(self) -> List[torch.Tensor]:
        """``cls_token`` and ``pos_embed`` at the current embedding dim (the
        resource estimator counts these)."""
        dims = self._active_embed_dims()
        return [self.pos_embed[..., :dims], self.cls_token[..., :dims]]

    def to_static_op(self) -> AutoformerSubnet:
        """The :class:`AutoformerSubnet` of the current choices (its ops,
        converted before it, are static)."""
        static = _as_static(self, AutoformerSubnet, self.mutable_names)
        pos_embed, cls_token = self.active_own_params()
        static._parameters['pos_embed'] = nn.Parameter(pos_embed.clone())
        static._parameters['cls_token'] = nn.Parameter(cls_token.clone())
        return static
