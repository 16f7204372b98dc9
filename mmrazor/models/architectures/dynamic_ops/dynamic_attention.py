# Copyright (c) OpenMMLab. All rights reserved.
"""Elastic vision transformer ops: attention with a subset of its heads,
relative position encodings of elastic size, patch embedding of elastic
width."""
from typing import Any, Tuple

import torch
import torch.nn as nn

from mmrazor.models.mutables import DerivedMutable
from mmrazor.models.mutables.mutable_channel import num_selected, select
from mmrazor.registry import MODELS

from ..ops.transformer_series import (
    MultiheadAttention,
    PatchEmbed,
    RelativePosition2D,
)
from ._mixin import DynamicOpMixin
from .dynamic_conv import DynamicConv2d
from .dynamic_linear import DynamicLinear


def _check_channels(op: nn.Module, attr: str, mutable: Any,
                    full: int) -> None:
    if getattr(mutable, 'num_channels', None) != full:
        raise ValueError(
            f'{type(op).__name__}: the mutable for {attr!r} has '
            f'num_channels={getattr(mutable, "num_channels", None)!r}, but '
            f'the op has {full}')


@MODELS.register_module()
class DynamicRelativePosition2D(RelativePosition2D, DynamicOpMixin):
    """A :class:`RelativePosition2D` whose encodings keep their first
    ``head_dims`` features.

    Mutable attribute: ``head_dims`` (a channel mutable of ``head_dims``
    channels). Arguments are those of :class:`RelativePosition2D`.
    """

    accepted_mutable_attrs: Tuple[str, ...] = ('head_dims', )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_mutable_attrs()

    def _check_mutable_attr(self, attr: str, mutable: Any) -> None:
        _check_channels(self, attr, mutable, self.head_dims)

    @property
    def active_head_dims(self) -> int:
        """Features of an encoding now."""
        return num_selected(self.channel_index('head_dims'), self.head_dims)

    def tables(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The tables' active columns."""
        index = self.channel_index('head_dims')
        return (select(self.embeddings_table_v, index, 1),
                select(self.embeddings_table_h, index, 1))

    def to_static_op(self) -> RelativePosition2D:
        """A :class:`RelativePosition2D` of the active size."""
        table_v, table_h = self.tables()
        with torch.device(table_v.device):
            static = RelativePosition2D(table_v.shape[1],
                                        self.max_relative_position)
        with torch.no_grad():
            static.embeddings_table_v.copy_(table_v)
            static.embeddings_table_h.copy_(table_h)
        return static


@MODELS.register_module()
class DynamicMultiheadAttention(MultiheadAttention, DynamicOpMixin):
    """A :class:`MultiheadAttention` running its first heads on part of its
    input features.

    Mutable attributes:

    - ``num_heads`` (a value mutable, choices up to ``num_heads``): the
      first heads run; with no ``q_embed_dims`` mutable each keeps
      ``head_dims`` features;
    - ``q_embed_dims`` (a channel mutable of ``num_heads * head_dims``
      channels): the first features of ``q``/``k``/``v``, split evenly
      among the active heads (Autoformer derives it as
      ``num_heads * 64``);
    - ``embed_dims`` (a channel mutable of ``embed_dims`` channels): the
      input and output features.

    ``w_qs``, ``w_ks``, ``w_vs`` and ``proj`` are :class:`DynamicLinear`
    ops following these mutables, and the relative position encodings
    (:class:`DynamicRelativePosition2D`) follow the active head size. The
    scale is ``qk_scale`` or the active head size ``** -0.5``, so every
    subnet is the attention of the paper at its own shape and exports to a
    plain :class:`MultiheadAttention`. Arguments are those of
    :class:`MultiheadAttention`.
    """

    accepted_mutable_attrs: Tuple[str, ...] = ('num_heads', 'q_embed_dims',
                                               'embed_dims')
    relative_position_cls = DynamicRelativePosition2D
    linear_cls = DynamicLinear

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_mutable_attrs()

    def _check_mutable_attr(self, attr: str, mutable: Any) -> None:
        if attr == 'num_heads':
            for heads in mutable.choices:
                if isinstance(heads, bool) or not isinstance(heads, int) \
                        or not 0 < heads <= self.num_heads:
                    raise ValueError(
                        f'DynamicMultiheadAttention: num_heads choices must '
                        f'be ints in [1, {self.num_heads}], got '
                        f'{mutable.choices}')
        elif attr == 'q_embed_dims':
            _check_channels(self, attr, mutable, self.q_embed_dims)
        else:
            _check_channels(self, attr, mutable, self.embed_dims)

    def register_mutable_attr(self, attr: str, mutable: Any) -> None:
        """Register ``mutable`` and let the linear layers follow it (a
        ``num_heads`` mutable alone gives them ``num_heads * head_dims``
        features until a ``q_embed_dims`` mutable is registered)."""
        super().register_mutable_attr(attr, mutable)
        if attr == 'embed_dims':
            for linear in (self.w_qs, self.w_ks, self.w_vs):
                linear.register_mutable_attr('in_channels', mutable)
            self.proj.register_mutable_attr('out_channels', mutable)
            return
        if attr == 'num_heads':
            if self.get_mutable_attr('q_embed_dims') is not None:
                return
            mutable = DerivedMutable.scaled(
                [mutable, self.head_dims], num_channels=self.q_embed_dims)
        for linear in (self.w_qs, self.w_ks, self.w_vs):
            linear.register_mutable_attr('out_channels', mutable)
        self.proj.register_mutable_attr('in_channels', mutable)

    def active_shape(self) -> Tuple[int, int]:
        """The active number of heads and features per head."""
        mutable = self.get_mutable_attr('num_heads')
        heads = self.num_heads if mutable is None else mutable.current_choice
        q_mutable = self.get_mutable_attr('q_embed_dims')
        if q_mutable is not None:
            q_dims = q_mutable.activated_channels
        else:
            q_dims = self.q_embed_dims if mutable is None else \
                heads * self.head_dims
        if q_dims % heads:
            raise ValueError(
                f'DynamicMultiheadAttention: {q_dims} q_embed_dims do not '
                f'split into {heads} heads; make q_embed_dims a multiple of '
                'num_heads (e.g. derive it as num_heads * head_dims)')
        return heads, q_dims // heads

    def _encodings(self, module: nn.Module, tokens: int,
                   head_dims: int) -> torch.Tensor:
        encodings = module(tokens, tokens)
        if encodings.shape[-1] == head_dims:
            return encodings
        if module.get_mutable_attr('head_dims') is None and \
                encodings.shape[-1] > head_dims:
            return encodings[..., :head_dims]
        raise ValueError(
            f'DynamicMultiheadAttention: the relative position encodings '
            f'have {encodings.shape[-1]} features, but the heads have '
            f'{head_dims}; let the head_dims mutable of rel_pos_embed_k / '
            'rel_pos_embed_v follow the head size')

    def to_static_op(self) -> MultiheadAttention:
        """A plain :class:`MultiheadAttention` of the active shape."""
        heads, head_dims = self.active_shape()
        # a static model export converts the children first
        children = {
            name: _static(getattr(self, name))
            for name in ('w_qs', 'w_ks', 'w_vs', 'proj')
        }
        static = MultiheadAttention(
            children['proj'].out_features,
            heads,
            head_dims,
            attn_drop_rate=self.attn_drop.p,
            proj_drop_rate=self.proj_drop.p,
            relative_position=self.relative_position,
            max_relative_position=self.max_relative_position,
            qkv_bias=self.w_qs.bias is not None,
            qk_scale=self.qk_scale,
            proj_bias=self.proj.bias is not None)
        for name, child in children.items():
            setattr(static, name, child)
        if self.relative_position:
            for name in ('rel_pos_embed_k', 'rel_pos_embed_v'):
                rel = _static(getattr(self, name))
                if rel.head_dims != head_dims:
                    rel = _narrowed(rel, head_dims)
                setattr(static, name, rel)
        return static.to(children['proj'].weight.device)


def _static(module: nn.Module) -> nn.Module:
    """The static op of ``module``, converting it if it is dynamic."""
    return module.to_static_op() if isinstance(module, DynamicOpMixin) \
        else module


def _narrowed(rel: RelativePosition2D, dims: int) -> RelativePosition2D:
    with torch.device(rel.embeddings_table_v.device):
        narrow = RelativePosition2D(dims, rel.max_relative_position)
    with torch.no_grad():
        narrow.embeddings_table_v.copy_(rel.embeddings_table_v[:, :dims])
        narrow.embeddings_table_h.copy_(rel.embeddings_table_h[:, :dims])
    return narrow


@MODELS.register_module()
class DynamicPatchEmbed(PatchEmbed, DynamicOpMixin):
    """A :class:`PatchEmbed` whose tokens keep their first features.

    Mutable attribute: ``embed_dims`` (a channel mutable of ``embed_dims``
    channels), which the projection (a :class:`DynamicConv2d`) follows.
    Arguments are those of :class:`PatchEmbed`.
    """

    accepted_mutable_attrs: Tuple[str, ...] = ('embed_dims', )
    conv_cls = DynamicConv2d

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_mutable_attrs()

    def _check_mutable_attr(self, attr: str, mutable: Any) -> None:
        _check_channels(self, attr, mutable, self.embed_dims)

    def register_mutable_attr(self, attr: str, mutable: Any) -> None:
        """Register ``mutable``; the projection's outputs follow it."""
        super().register_mutable_attr(attr, mutable)
        self.projection.register_mutable_attr('out_channels', mutable)

    def to_static_op(self) -> PatchEmbed:
        """A plain :class:`PatchEmbed` of the active width."""
        projection = _static(self.projection)
        static = PatchEmbed(self.img_size, self.patch_size, self.in_channels,
                            projection.out_channels)
        static.projection = projection
        return static.to(projection.weight.device)
