# Copyright (c) OpenMMLab. All rights reserved.
"""The convolution of DCFF: its active filters are fusions of all filters.

Imported by :class:`~mmrazor.models.mutables.DCFFChannelUnit` when it
prepares a model, not when the units package loads: the dynamic ops import
the channel mutables, so the units package cannot import them at load time.
"""
from typing import Any, Optional, Tuple

import torch
import torch.nn as nn

from mmrazor.models.mutables.mutable_channel import num_selected, select
from mmrazor.registry import MODELS

from .dynamic_conv import DynamicConv2d


@MODELS.register_module()
class FuseConv2d(DynamicConv2d):
    """A ``DynamicConv2d`` whose ``k`` active filters are fused filters.

    Bound to a DCFF unit (:meth:`bind_fusion`), the op computes its ``k``
    active output filters as ``F[:k] @ W`` (and its bias as ``F[:k] @ b``),
    where ``W`` holds all ``c`` filters (sliced to the active input
    channels) and ``F`` is the unit's ``(c, c)`` ``fusion_matrix``. The
    unit's channels must be a prefix (a sequential mutable channel), which
    the unit guarantees. Unbound, it is a plain ``DynamicConv2d``. Gradients
    reach every filter through the fusion; ``to_static_op`` exports the
    fused filters. Only ``groups=1`` convolutions are fused.

    Arguments are those of ``nn.Conv2d``.
    """

    def bind_fusion(self, unit: Any) -> None:
        """Fuse the filters with ``unit.fusion_matrix`` from now on.

        Args:
            unit: An object with a ``(out_channels, out_channels)``
                ``fusion_matrix`` tensor (a ``DCFFChannelUnit``). It is kept
                as a plain reference, not as a submodule.
        """
        if self.groups != 1:
            raise ValueError(f'FuseConv2d fuses groups=1 convolutions only, '
                             f'got groups={self.groups}')
        shape = tuple(unit.fusion_matrix.shape)
        if shape != (self.out_channels, self.out_channels):
            raise ValueError(
                f'FuseConv2d: the fusion matrix must be ({self.out_channels},'
                f' {self.out_channels}) for {self.out_channels} filters, but '
                f'got {shape}')
        self.__dict__['_fusion_unit'] = unit

    @property
    def fusion_unit(self) -> Optional[Any]:
        """The bound unit, or None."""
        return self.__dict__.get('_fusion_unit')

    @classmethod
    def convert_from(cls, module: nn.Conv2d) -> 'FuseConv2d':
        """Build from ``module``, reusing its parameters and, for a dynamic
        op, its mutable attributes (the channel containers)."""
        new = cls(module.in_channels, module.out_channels, module.kernel_size,
                  module.stride, module.padding, module.dilation,
                  module.groups, module.bias is not None,
                  module.padding_mode).to(module.weight.device)
        new.weight = module.weight
        new.bias = module.bias
        mutable_attrs = getattr(module, 'mutable_attrs', None)
        if mutable_attrs is not None:
            new.mutable_attrs = mutable_attrs
        new.train(module.training)
        return new

    def _cache_tensors(self) -> list:
        """The inference weights depend on the fusion matrix too: a fusion
        update invalidates them."""
        unit = self.fusion_unit
        extra = [] if unit is None else [unit.fusion_matrix]
        return super()._cache_tensors() + extra

    def active_params(self) -> Tuple[torch.Tensor, Any, int]:
        """Fused weight and bias of the active filters, and groups."""
        unit = self.fusion_unit
        if unit is None:
            return super().active_params()
        out_idx = self.channel_index('out_channels')
        if out_idx is not None and (not isinstance(out_idx, slice)
                                    or out_idx.start != 0):
            raise RuntimeError(
                'FuseConv2d: the active output channels must be a prefix '
                f'(the DCFF unit keeps its first channels), got {out_idx}')
        num_out = num_selected(out_idx, self.out_channels)
        weight = select(self.weight, self.channel_index('in_channels'), 1)
        matrix = unit.fusion_matrix[:num_out].to(weight)
        fused = (matrix @ weight.flatten(1)).view(num_out, *weight.shape[1:])
        bias = None if self.bias is None else matrix @ self.bias
        return self._transform_kernel(fused), bias, self.groups
