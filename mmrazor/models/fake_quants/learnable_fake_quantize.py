# Copyright (c) OpenMMLab. All rights reserved.
"""Fake quantizers: torchao's, registered by name, and a learnable one (LSQ).

:class:`LearnableFakeQuantize` learns its step size (and, for affine
schemes, zero point) by back-propagation, as in Learned Step Size
Quantization (Esser et al., ICLR 2020, https://arxiv.org/abs/1902.08153),
with the gradient scale ``1 / sqrt(numel * Qp)`` of the paper.

It differs from torchao's base class in what a training run needs: the
step size and zero point are parameters that require grad from
construction on (so the optimizer and DDP, built before the first batch,
hold them; a gradient reaches them only while range learning is on), they
keep their identity when the observer re-initialises them (only their data
changes, shape included), and whether they were initialised is a buffer, so
a checkpoint restores it and a resumed run does not re-initialise.
"""
from typing import Any, Dict, List

import torch
from torch import nn

from mmrazor.registry import MODELS
from mmrazor.utils.torchao_import import import_pt2e

_pt2e = import_pt2e()

#: name -> torchao fake quantize class, as registered in ``MODELS``.
TORCHAO_FAKE_QUANTS = {
    name: getattr(_pt2e, name)
    for name in ('FakeQuantize', 'FusedMovingAvgObsFakeQuantize')
}
for _name, _cls in TORCHAO_FAKE_QUANTS.items():
    MODELS.register_module(name=_name, module=_cls)


@MODELS.register_module()
class LearnableFakeQuantize(_pt2e.LearnableFakeQuantize):
    """Fake quantizer with a learned step size (LSQ).

    The first forward with the observer enabled (or the first forward at
    all) sets the step size from the observer, e.g. ``LSQObserver``'s
    ``2 * mean(|x|) / sqrt(Qp)``. With range learning enabled
    (:func:`enable_param_learning`), the observer is off and the step size
    is a trained parameter.

    Args:
        observer (type): Observer class (or ``with_args`` partial).
            Defaults to :class:`~mmrazor.models.observers.LSQObserver`.
        quant_min (int): Smallest quantized value. Defaults to 0.
        quant_max (int): Largest quantized value. Defaults to 255.
        use_grad_scaling (bool): Scale the step-size gradient by
            ``1 / sqrt(numel * quant_max)`` as the paper does. Defaults to
            True.
        **observer_kwargs: Passed to the observer (dtype, qscheme...).
    """

    def __init__(self,
                 observer: Any = None,
                 quant_min: int = 0,
                 quant_max: int = 255,
                 use_grad_scaling: bool = True,
                 **observer_kwargs: Any) -> None:
        if observer is None:
            observer = MODELS.get('LSQObserver')
        observer_kwargs.pop('is_dynamic', None)
        super().__init__(observer, quant_min, quant_max, use_grad_scaling,
                         **observer_kwargs)
        self.scale = nn.Parameter(torch.ones(1))
        self.zero_point = nn.Parameter(torch.zeros(1))

    @property
    def _initialized(self) -> bool:
        buffer = self._buffers.get('initialized')
        return bool(buffer is not None and buffer.item())

    @_initialized.setter
    def _initialized(self, value: bool) -> None:
        if 'initialized' not in self._buffers:
            self.register_buffer('initialized',
                                 torch.tensor([0], dtype=torch.uint8))
        self._buffers['initialized'].fill_(int(bool(value)))

    def enable_range_learning(self) -> None:
        """Learn the step size (and zero point); the observer stops."""
        self.learning_enabled[0] = 1
        self.disable_observer()

    def disable_range_learning(self) -> None:
        """Keep the step size fixed (no gradient reaches it)."""
        self.learning_enabled[0] = 0

    def enable_observer(self, enabled: bool = True) -> None:
        """Let the observer (re)set the step size on each forward."""
        self.observer_enabled[0] = int(enabled)
        if enabled:
            self.disable_range_learning()

    def _initialize_or_update_qparams(self, scale: torch.Tensor,
                                      zero_point: torch.Tensor) -> None:
        """Copy the observer's qparams into the (same) parameters."""
        device = self.scale.device
        self.scale.data = scale.detach().to(device, torch.float32).clone()
        self.zero_point.data = zero_point.detach().to(device,
                                                      torch.float32).clone()
        self._initialized = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Observe (if enabled), then fake-quantize ``x``.

        The parameters always require grad (so that DDP and the optimizer
        hold them from the start), but a gradient reaches them only while
        range learning is enabled; otherwise they are used detached.
        """
        if self.observer_enabled[0] == 1 or not self._initialized:
            self.activation_post_process(x.detach())
            self._initialize_or_update_qparams(
                *self.activation_post_process.calculate_qparams())
        if self.fake_quant_enabled[0] != 1:
            return x
        if self.qscheme in (torch.per_channel_symmetric,
                            torch.per_tensor_symmetric):
            self.zero_point.data.zero_()
        per_channel = self.qscheme in (torch.per_channel_symmetric,
                                       torch.per_channel_affine)
        if self.learning_enabled[0] == 1:
            grad_factor = (1.0 / (x.numel() * self.quant_max)**0.5
                           if self.use_grad_scaling else 1.0)
            if per_channel:
                return torch._fake_quantize_learnable_per_channel_affine(
                    x, self.scale, self.zero_point, self.ch_axis,
                    self.quant_min, self.quant_max, grad_factor)
            return torch._fake_quantize_learnable_per_tensor_affine(
                x, self.scale, self.zero_point, self.quant_min,
                self.quant_max, grad_factor)
        scale = self.scale.detach().clamp(min=self.eps.item())
        zero_point = self.zero_point.detach().round().clamp(
            self.quant_min, self.quant_max).to(torch.int32)
        if per_channel:
            return torch.fake_quantize_per_channel_affine(
                x, scale, zero_point, self.ch_axis, self.quant_min,
                self.quant_max)
        return torch.fake_quantize_per_tensor_affine(
            x, scale, zero_point, self.quant_min, self.quant_max)

    def _load_from_state_dict(self, state_dict: Dict[str, Any], prefix: str,
                              *args: List[Any], **kwargs: Any) -> None:
        # per-channel step sizes: take the stored shape before copying
        for name in ('scale', 'zero_point'):
            stored = state_dict.get(prefix + name)
            param = getattr(self, name)
            if stored is not None and stored.shape != param.shape:
                param.data = torch.empty_like(stored, device=param.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def enable_static_estimate(module: nn.Module) -> None:
    """LSQ's first batch: observers on, step sizes fixed, fake quant on.

    Use as ``model.apply(enable_static_estimate)``.
    """
    if isinstance(module, LearnableFakeQuantize):
        module.disable_range_learning()
        module.enable_observer()
        module.enable_fake_quant()


def enable_param_learning(module: nn.Module) -> None:
    """LSQ training: step sizes learned, observers off, fake quant on."""
    if isinstance(module, LearnableFakeQuantize):
        module.enable_range_learning()
        module.enable_fake_quant()


def enable_val(module: nn.Module) -> None:
    """Evaluation: step sizes fixed, observers off, fake quant on."""
    if isinstance(module, LearnableFakeQuantize):
        module.disable_range_learning()
        module.disable_observer()
        module.enable_fake_quant()
