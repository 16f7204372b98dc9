# Copyright (c) OpenMMLab. All rights reserved.
"""One optimizer wrapper per submodule, for algorithms with several
training steps per iteration (data-free distillation, DARTS)."""
from typing import Dict, Optional

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from mmrazor.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmrazor.utils.model_wrappers import unwrap_model


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SeparateOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` with one wrapper per named submodule.

    The config names submodules of the (unwrapped) model, each with its own
    optimizer wrapper config; a ``paramwise_cfg`` inside one of them applies
    to that submodule only::

        optim_wrapper = dict(
            constructor='mmrazor.SeparateOptimWrapperConstructor',
            architecture=dict(optimizer=dict(type='SGD', lr=0.1)),
            generator=dict(optimizer=dict(type='Adam', lr=1e-3)))

    Args:
        optim_wrapper_cfg (dict): ``{submodule name: optim wrapper config}``.
        paramwise_cfg (dict, optional): Not supported at this level (give it
            per submodule); must be None or empty.
    """

    def __init__(self,
                 optim_wrapper_cfg: Dict[str, Dict],
                 paramwise_cfg: Optional[Dict] = None) -> None:
        if paramwise_cfg:
            raise ValueError(
                'SeparateOptimWrapperConstructor: give `paramwise_cfg` inside '
                'the optim wrapper config of each submodule, not at the top '
                f'level (got {paramwise_cfg!r})')
        if not isinstance(optim_wrapper_cfg, dict) or not optim_wrapper_cfg:
            raise ValueError(
                'SeparateOptimWrapperConstructor needs one optim wrapper '
                'config per submodule, e.g. architecture=dict(optimizer=...), '
                f'but got {optim_wrapper_cfg!r}')
        for key, cfg in optim_wrapper_cfg.items():
            if not isinstance(cfg, dict):
                raise ValueError(
                    f'SeparateOptimWrapperConstructor: the config of {key!r} '
                    f'must be a dict with an `optimizer`, but got {cfg!r}')
        self.optim_wrapper_cfg = optim_wrapper_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """Build the wrappers for the submodules of ``model``."""
        model = unwrap_model(model)
        children = dict(model.named_children())
        wrappers = {}
        for key, cfg in self.optim_wrapper_cfg.items():
            if key not in children:
                raise KeyError(
                    f'SeparateOptimWrapperConstructor: the model '
                    f'({type(model).__name__}) has no submodule {key!r}; its '
                    f'submodules are {sorted(children)}')
            cfg = dict(cfg)
            paramwise_cfg = cfg.pop('paramwise_cfg', None)
            constructor = DefaultOptimWrapperConstructor(cfg, paramwise_cfg)
            wrappers[key] = constructor(children[key])
        return OptimWrapperDict(**wrappers)
