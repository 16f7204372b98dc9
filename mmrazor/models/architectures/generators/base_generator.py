# Copyright (c) OpenMMLab. All rights reserved.
"""The base of the image generators of data-free distillation."""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule


class BaseGenerator(BaseModule):
    """Map latent noise of shape (N, ``latent_dim``) to images of shape
    (N, 3, ``img_size``, ``img_size``).

    Subclasses build their layers and implement :meth:`forward` with
    :meth:`process_latent`, which checks given noise or samples it.

    Args:
        img_size (int): Height and width of the generated images.
        latent_dim (int): Dimension of the latent noise.
        hidden_channels (int): Channels of the first feature map.
        scale_factor (int): Upsampling factor of each of the two upsampling
            stages; ``img_size`` must be divisible by its square.
            Defaults to 2.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 img_size: int,
                 latent_dim: int,
                 hidden_channels: int,
                 scale_factor: int = 2,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        for arg, value in (('img_size', img_size), ('latent_dim', latent_dim),
                           ('hidden_channels', hidden_channels),
                           ('scale_factor', scale_factor)):
            if not isinstance(value, int) or isinstance(value, bool) \
                    or value <= 0:
                raise ValueError(f'{name}: `{arg}` must be a positive int, '
                                 f'got {value!r}.')
        if hidden_channels < 2:
            raise ValueError(f'{name}: `hidden_channels` must be >= 2 (the '
                             f'last block halves it), got {hidden_channels}.')
        if img_size % (scale_factor**2) != 0:
            raise ValueError(
                f'{name}: `img_size`={img_size} must be divisible by '
                f'scale_factor**2={scale_factor**2} (two upsampling stages); '
                f'change one of them.')
        self.img_size = img_size
        self.latent_dim = latent_dim
        self.hidden_channels = hidden_channels
        self.scale_factor = scale_factor
        self.init_size = img_size // (scale_factor**2)

    def process_latent(self,
                       data: Optional[torch.Tensor] = None,
                       batch_size: Optional[int] = None) -> torch.Tensor:
        """Return ``data`` checked, or ``batch_size`` samples of N(0, I).

        Args:
            data (Tensor, optional): Noise of shape (N, ``latent_dim``).
                Defaults to None: sample it.
            batch_size (int, optional): How many samples to draw when
                ``data`` is None. Defaults to None.

        Returns:
            Tensor: The noise, on the generator's device.
        """
        name = type(self).__name__
        device = next(self.parameters()).device
        if data is None:
            if not isinstance(batch_size, int) or batch_size <= 0:
                raise ValueError(
                    f'{name}.forward: give the noise `data` of shape (N, '
                    f'{self.latent_dim}) or a positive `batch_size` to '
                    f'sample it, got data=None, batch_size={batch_size!r}.')
            return torch.randn(batch_size, self.latent_dim, device=device)
        if not isinstance(data, torch.Tensor) or data.dim() != 2 or \
                data.size(1) != self.latent_dim:
            shape = tuple(data.shape) if isinstance(data, torch.Tensor) \
                else type(data).__name__
            raise ValueError(f'{name}.forward: `data` must be noise of shape '
                             f'(N, {self.latent_dim}) (latent_dim), got '
                             f'{shape}.')
        return data.to(device)
