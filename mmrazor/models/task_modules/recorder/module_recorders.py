# Copyright (c) OpenMMLab. All rights reserved.
"""Recorders of a submodule's outputs or inputs, by forward hooks."""
from typing import Any, Optional, Tuple

import torch
from torch import nn

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.model_wrappers import unwrap_model
from mmrazor.utils.validators import close_matches

from .base_recorder import BaseRecorder


def _not_found(recorder: BaseRecorder, kind: str, names) -> ValueError:
    source = recorder.source
    hint = ''
    if source.startswith('module.') and source[len('module.'):] in names:
        hint = (f' Names are relative to the unwrapped model (no DDP '
                f'"module." prefix): use {source[len("module."):]!r}.')
    return ValueError(
        f'{recorder!r}: the model has no {kind} named {source!r}; close '
        f'matches: {close_matches(source, names, cutoff=0.5)}.{hint}')


def _check_model(recorder: BaseRecorder, model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f'{recorder!r}.initialize needs the nn.Module to '
                        f'record, got {type(model).__name__}.')
    return unwrap_model(model)


def _clone_tensors(data: Any) -> Any:
    """Clone the tensors in ``data`` (a tensor, or tuples/lists/dicts)."""
    if isinstance(data, torch.Tensor):
        return data.clone()
    if isinstance(data, (tuple, list)):
        return type(data)(_clone_tensors(d) for d in data)
    if isinstance(data, dict):
        return {k: _clone_tensors(v) for k, v in data.items()}
    return data


@TASK_UTILS.register_module()
class ModuleOutputsRecorder(BaseRecorder):
    """Record the outputs of the submodule named ``source``.

    Records are references to the outputs. A later in-place operation
    (``out += identity`` and ``ReLU(inplace=True)`` in mmcls's ResNet blocks,
    right after their last BN) changes them; ``clone=True`` stores a copy
    taken when the module returns (gradients still flow through it).

    Args:
        source (str): Name of the submodule as in
            ``model.named_modules()`` of the unwrapped model, e.g.
            ``'backbone.layer4.1.conv2'`` (never ``'module.backbone...'``
            under DDP: the wrapper is stripped before lookup).
        clone (bool): Whether to record a copy of each output tensor.
            Defaults to False.

    Examples:
        >>> import torch
        >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        >>> recorder = ModuleOutputsRecorder('0')
        >>> recorder.initialize(model)
        >>> with recorder:
        ...     _ = model(torch.zeros(1, 2))
        >>> recorder.get_record_data().shape
        torch.Size([1, 3])
    """

    def __init__(self, source: str, clone: bool = False) -> None:
        super().__init__(source)
        self.clone = clone

    def _install(self, model: Optional[nn.Module]) -> None:
        modules = dict(_check_model(self, model).named_modules())
        if self.source not in modules:
            raise _not_found(self, 'submodule', modules)
        self._handle = modules[self.source].register_forward_hook(self._hook)

    def _uninstall(self) -> None:
        self._handle.remove()
        del self._handle

    def _hook(self, module: nn.Module, inputs: Tuple, outputs: Any) -> None:
        if not self._recording:
            return
        if self.clone:
            outputs = _clone_tensors(outputs)
        self.data_buffer.append(outputs)


@TASK_UTILS.register_module()
class ModuleInputsRecorder(ModuleOutputsRecorder):
    """Record the positional inputs of the submodule named ``source``.

    Each record is the tuple of positional arguments of one forward call;
    ``get_record_data(data_idx=i)`` picks the i-th. Keyword arguments are
    not recorded. ``source`` is resolved as in
    :class:`ModuleOutputsRecorder`.
    """

    def _hook(self, module: nn.Module, inputs: Tuple, outputs: Any) -> None:
        if not self._recording:
            return
        if self.clone:
            inputs = _clone_tensors(inputs)
        self.data_buffer.append(inputs)


@TASK_UTILS.register_module()
class ParameterRecorder(BaseRecorder):
    """Record the parameter named ``source`` (e.g. ``'head.fc.weight'``).

    The parameter is found once by :meth:`initialize` (relative to the
    unwrapped model, as for :class:`ModuleOutputsRecorder`); each
    ``with recorder:`` puts one record in :attr:`data_buffer`: the live
    parameter itself, so gradients flow through it.
    """

    def _install(self, model: Optional[nn.Module]) -> None:
        params = dict(_check_model(self, model).named_parameters())
        if self.source not in params:
            raise _not_found(self, 'parameter', params)
        self._param = params[self.source]

    def _uninstall(self) -> None:
        del self._param

    def _on_enter(self) -> None:
        self.data_buffer.append(self._param)
