# Copyright (c) OpenMMLab. All rights reserved.
"""Resizing the input image to a searched resolution."""
from typing import Any, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from ._mixin import DynamicOpMixin


@MODELS.register_module()
class InputResizer(nn.Module):
    """Resizes a batch of images to a fixed ``size`` (static export).

    Args:
        size (sequence[int], optional): Target ``(height, width)``; None
            passes the input through. Defaults to None.
        interpolation_type (str): Mode of ``F.interpolate``. Defaults to
            ``'bicubic'``.
        align_corners (bool): As in ``F.interpolate``. Defaults to False.
    """

    def __init__(self,
                 size: Optional[Sequence[int]] = None,
                 interpolation_type: str = 'bicubic',
                 align_corners: bool = False) -> None:
        super().__init__()
        self.size = None if size is None else tuple(int(s) for s in size)
        self.interpolation_type = interpolation_type
        self.align_corners = align_corners

    def resize(self, x: torch.Tensor,
               size: Optional[Tuple[int, ...]]) -> torch.Tensor:
        """Resize ``x`` to ``size`` unless it already has that size."""
        if size is None or tuple(x.shape[-2:]) == size:
            return x
        align = self.align_corners if self.interpolation_type in (
            'linear', 'bilinear', 'bicubic', 'trilinear') else None
        return F.interpolate(
            x, size=size, mode=self.interpolation_type, align_corners=align)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resize(x, self.size)

    def extra_repr(self) -> str:
        return (f'size={self.size}, '
                f'interpolation_type={self.interpolation_type!r}')


@MODELS.register_module()
class DynamicInputResizer(InputResizer, DynamicOpMixin):
    """Resizes the input to the resolution a mutable chooses.

    Mutable attribute: ``shape`` (a value mutable of ``[height, width]``
    lists), as in BigNAS where the input resolution is searched.

    Args:
        interpolation_type (str): Mode of ``F.interpolate``. Defaults to
            ``'bicubic'``.
        align_corners (bool): As in ``F.interpolate``. Defaults to False.
    """

    accepted_mutable_attrs: Tuple[str, ...] = ('shape', )

    def __init__(self,
                 interpolation_type: str = 'bicubic',
                 align_corners: bool = False) -> None:
        super().__init__(None, interpolation_type, align_corners)
        self._init_mutable_attrs()

    def _check_mutable_attr(self, attr: str, mutable: Any) -> None:
        for shape in mutable.choices:
            if not isinstance(shape, (list, tuple)) or len(shape) != 2:
                raise ValueError(
                    'DynamicInputResizer: shape choices must be [height, '
                    f'width] pairs, got {mutable.choices}')

    @property
    def active_size(self) -> Optional[Tuple[int, ...]]:
        """The resolution chosen now (None: no mutable, no resize)."""
        mutable = self.mutable_attrs._modules.get('shape')
        return None if mutable is None else tuple(mutable.current_choice)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resize(x, self.active_size)

    def to_static_op(self) -> InputResizer:
        """An :class:`InputResizer` fixed at the chosen resolution."""
        return InputResizer(self.active_size, self.interpolation_type,
                            self.align_corners)
