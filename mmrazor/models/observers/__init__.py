# Copyright (c) OpenMMLab. All rights reserved.
"""Observers of the quantization config language, registered by name.

``global_qconfig`` dicts name them as ``w_observer`` / ``a_observer``
(``dict(type='mmrazor.PerChannelMinMaxObserver')``). torchao's PT2E
observers are registered under the names the original MMRazor used, next to
the LSQ observers defined here. They exist only where torchao is installed
(the ``quant`` extra); ``import mmrazor`` works without it.
"""
from mmrazor.utils.torchao_import import torchao_available

__all__ = []
if torchao_available():
    from .lsq import LSQObserver, LSQPerChannelObserver
    from .torchao_observers import TORCHAO_OBSERVERS
    __all__ += ['LSQObserver', 'LSQPerChannelObserver', 'TORCHAO_OBSERVERS']
