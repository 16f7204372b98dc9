# Copyright (c) OpenMMLab. All rights reserved.
"""Connectors that wrap a ``torch.nn.functional`` function or a
``torch.nn`` module named in the config."""
import inspect
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS
from mmrazor.utils.validators import close_matches

from .base_connector import BaseConnector


def _unknown_name(owner: object, field: str, name: object, where: str,
                  candidates: List[str]) -> ValueError:
    """Build the error for a name that ``where`` does not define."""
    close = close_matches(str(name), candidates)
    hint = f'; close names: {close}' if close else ''
    return ValueError(f'{type(owner).__name__}: `{field}` {name!r} is not '
                      f'in {where}{hint}')


@MODELS.register_module()
class TorchFunctionalConnector(BaseConnector):
    """Apply a ``torch.nn.functional`` function, named in the config.

    Args:
        function_name (str): Name of the function in ``torch.nn.functional``,
            e.g. ``'avg_pool2d'`` or ``'normalize'``.
        func_args (dict): Keyword arguments passed on every call.
            Defaults to ``{}``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.

    Examples:
        >>> connector = TorchFunctionalConnector(
        ...     'avg_pool2d', func_args=dict(kernel_size=2))
        >>> connector(torch.rand(2, 8, 6, 6)).shape
        torch.Size([2, 8, 3, 3])
    """

    def __init__(self,
                 function_name: str,
                 func_args: Dict = {},
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        functions = sorted(
            name for name, obj in vars(F).items()
            if not name.startswith('_') and callable(obj)
            and not inspect.ismodule(obj) and not inspect.isclass(obj))
        if not isinstance(function_name, str) or \
                function_name not in functions:
            raise _unknown_name(self, 'function_name', function_name,
                                'torch.nn.functional', functions)
        if not isinstance(func_args, dict):
            raise TypeError(f'{type(self).__name__}: `func_args` must be a '
                            f'dict, but got {type(func_args).__name__}')
        self.function_name = function_name
        self.func = getattr(F, function_name)
        self.func_args = dict(func_args)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Call the function on ``feature`` with ``func_args``."""
        return self.func(feature, **self.func_args)

    def extra_repr(self) -> str:
        return f'{self.function_name}, func_args={self.func_args}'


@MODELS.register_module()
class TorchNNConnector(BaseConnector):
    """Apply a ``torch.nn`` module, named in the config.

    Args:
        module_name (str): Name of the module class in ``torch.nn``, e.g.
            ``'AdaptiveAvgPool2d'`` or ``'Upsample'``.
        module_args (dict): Keyword arguments of its constructor.
            Defaults to ``{}``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.

    Examples:
        >>> connector = TorchNNConnector(
        ...     'AdaptiveAvgPool2d', module_args=dict(output_size=2))
        >>> connector(torch.rand(2, 8, 6, 6)).shape
        torch.Size([2, 8, 2, 2])
    """

    def __init__(self,
                 module_name: str,
                 module_args: Dict = {},
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        modules = sorted(
            name for name, obj in vars(nn).items()
            if inspect.isclass(obj) and issubclass(obj, nn.Module)
            and not name.startswith('_'))
        if not isinstance(module_name, str) or module_name not in modules:
            raise _unknown_name(self, 'module_name', module_name, 'torch.nn',
                                modules)
        if not isinstance(module_args, dict):
            raise TypeError(f'{type(self).__name__}: `module_args` must be '
                            f'a dict, but got {type(module_args).__name__}')
        self.module = getattr(nn, module_name)(**module_args)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Apply the module to ``feature``."""
        return self.module(feature)
