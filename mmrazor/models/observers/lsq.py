# Copyright (c) OpenMMLab. All rights reserved.
"""Observers that initialise LSQ step sizes.

Learned Step Size Quantization (Esser et al., ICLR 2020,
https://arxiv.org/abs/1902.08153) starts each step size at
``2 * mean(|x|) / sqrt(Qp)``, where ``Qp`` is the largest quantized value.
These observers record ``mean(|x|)`` (per tensor or per channel) next to the
min/max statistics of their torchao base, and return that step size from
``calculate_qparams``; the zero point is the min/max one.
"""
import math
from typing import Any, Dict, List, Tuple

import torch

from mmrazor.registry import MODELS
from mmrazor.utils.torchao_import import import_pt2e

_pt2e = import_pt2e()


def _lsq_scale(norm: torch.Tensor, like: torch.Tensor, quant_max: int,
               eps: torch.Tensor) -> torch.Tensor:
    """``2 * norm / sqrt(quant_max)`` shaped and typed like ``like``."""
    scale = 2 * norm.to(like.device, torch.float32) / math.sqrt(quant_max)
    return torch.max(scale.reshape(like.shape), eps.to(like.device))


def _resize_norm(module: torch.nn.Module, state_dict: Dict[str, Any],
                 prefix: str) -> None:
    """Give ``tensor_norm`` the shape stored in ``state_dict``."""
    stored = state_dict.get(prefix + 'tensor_norm')
    if stored is not None and stored.shape != module.tensor_norm.shape:
        module.tensor_norm = torch.empty_like(stored)


@MODELS.register_module()
class LSQObserver(_pt2e.MinMaxObserver):
    """Per-tensor min/max observer returning LSQ's initial step size.

    Args are those of torchao's ``MinMaxObserver``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer('tensor_norm', torch.tensor(0.))

    def forward(self, x_orig: torch.Tensor) -> torch.Tensor:
        """Record ``mean(|x|)`` and the min/max of ``x_orig``."""
        if x_orig.numel() == 0:
            return x_orig
        self.tensor_norm = x_orig.detach().float().abs().mean()
        return super().forward(x_orig)

    def calculate_qparams(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(2 * mean|x| / sqrt(Qp), min/max zero point)``."""
        scale, zero_point = super().calculate_qparams()
        return _lsq_scale(self.tensor_norm, scale, self.quant_max,
                          self.eps), zero_point

    def _load_from_state_dict(self, state_dict: Dict[str, Any], prefix: str,
                              *args: List[Any], **kwargs: Any) -> None:
        _resize_norm(self, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


@MODELS.register_module()
class LSQPerChannelObserver(_pt2e.PerChannelMinMaxObserver):
    """Per-channel min/max observer returning LSQ's initial step sizes.

    ``mean(|x|)`` is taken over all dimensions but ``ch_axis``. Args are
    those of torchao's ``PerChannelMinMaxObserver``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer('tensor_norm', torch.tensor([]))

    def forward(self, x_orig: torch.Tensor) -> torch.Tensor:
        """Record the per-channel ``mean(|x|)`` and min/max of ``x_orig``."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().float().transpose(0, self.ch_axis)
        self.tensor_norm = x.reshape(x.shape[0], -1).abs().mean(dim=1)
        return super().forward(x_orig)

    def calculate_qparams(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return per-channel ``(2 * mean|x| / sqrt(Qp), zero points)``."""
        scale, zero_point = super().calculate_qparams()
        if self.tensor_norm.numel() != scale.numel():
            # never observed: keep the base class's default step sizes
            return scale, zero_point
        return _lsq_scale(self.tensor_norm, scale, self.quant_max,
                          self.eps), zero_point

    def _load_from_state_dict(self, state_dict: Dict[str, Any], prefix: str,
                              *args: List[Any], **kwargs: Any) -> None:
        _resize_norm(self, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
