# Copyright (c) OpenMMLab. All rights reserved.
"""The base of every mmrazor algorithm."""
import warnings
from typing import Any, Dict, List, Optional, Tuple, Type, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODELS
from mmrazor.utils.nonfinite import (
    NONFINITE_HINT,
    any_rank,
    check_nonfinite_action,
    nonfinite_message,
    nonfinite_terms,
    train_position,
)

LossResults = Dict[str, torch.Tensor]
TensorResults = Union[tuple, torch.Tensor]
PredictResults = List[BaseDataElement]
ForwardResults = Union[LossResults, TensorResults, PredictResults]


def build_component(cfg: Union[Dict, nn.Module], expected: Type,
                    field: str, owner: str) -> Any:
    """Build ``cfg`` through ``MODELS`` if it is a dict, then type-check it.

    Args:
        cfg (dict | nn.Module): A config or an already built object.
        expected (type): The class the result must be an instance of.
        field (str): The argument name, for error messages.
        owner (str): The class receiving it, for error messages.

    Returns:
        The built (or given) object.
    """
    if isinstance(cfg, dict):
        cfg = MODELS.build(cfg)
    if not isinstance(cfg, expected):
        raise TypeError(
            f'{owner}: `{field}` must be a config dict or a built '
            f'{expected.__name__}, but got {type(cfg).__name__}')
    return cfg


def disable_inplace(model: nn.Module) -> None:
    """Set ``inplace=False`` on every module of ``model`` that has a bool
    ``inplace`` attribute (``nn.ReLU(inplace=True)``...)."""
    for module in model.modules():
        if isinstance(getattr(module, 'inplace', None), bool):
            module.inplace = False

class BaseAlgorithm(BaseModel):
    """Wraps a model (the ``architecture``) and changes how it trains.

    ``forward`` dispatches on ``mode`` as mmengine models do: ``'loss'`` to
    :meth:`loss`, ``'tensor'`` to :meth:`_forward` and ``'predict'`` to
    :meth:`_predict`, which by default run the architecture in that mode.
    Algorithms customise :meth:`loss` (e.g. sample a subnet, then forward).

    Every training step goes through :meth:`parse_losses`, also under
    mmengine's ``MMDistributedDataParallel`` and in algorithms with their
    own ``train_step``: a NaN or infinite loss there stops training before
    the optimizer step (``nonfinite_loss='raise'``) or skips the batch
    (``'skip'``), see :mod:`mmrazor.utils.nonfinite`.

    Args:
        architecture (dict | BaseModel): The model, e.g. an mmcls
            ``ImageClassifier``, as a config or built.
        data_preprocessor (dict | nn.Module, optional): Preprocessor of the
            batches. Defaults to None: the architecture's own. A dict without
            ``type`` (as mmengine's Runner passes from a config's top-level
            ``data_preprocessor``) builds the architecture's preprocessor
            class with those arguments.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
        module_inplace (bool): Keep the ``inplace=True`` of the
            architecture's activations. Defaults to False: as in the
            original MMRazor, every module with a bool ``inplace`` attribute
            is set to ``inplace=False``, so that a recorder on a module
            followed by ``ReLU(inplace=True)`` records that module's output,
            not the activation's.
    """

    #: What :meth:`parse_losses` does with a NaN or infinite loss:
    #: ``'raise'`` or ``'skip'``. A config sets it through
    #: :class:`~mmrazor.engine.hooks.NonFiniteLossHook`.
    nonfinite_loss: str = 'raise'

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None,
                 module_inplace: bool = False) -> None:
        architecture = build_component(architecture, BaseModel,
                                       'architecture', type(self).__name__)
        self.module_inplace = module_inplace
        if not module_inplace:
            disable_inplace(architecture)
        if data_preprocessor is None:
            data_preprocessor = architecture.data_preprocessor
        elif isinstance(data_preprocessor, dict) and \
                'type' not in data_preprocessor:
            # mmengine's Runner hands a config's top-level
            # `data_preprocessor` (mmcls dataset bases define one without
            # a type) to the outermost model: build it as the
            # architecture's preprocessor class, for both of them.
            data_preprocessor = MODELS.build(
                dict(type=type(architecture.data_preprocessor),
                     **data_preprocessor))
            architecture.data_preprocessor = data_preprocessor
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.architecture = architecture

    def parse_losses(
        self, losses: Dict[str, torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Sum the losses as mmengine does, refusing non-finite ones.

        1. mmengine's ``BaseModel.parse_losses`` sums the keys containing
           ``'loss'`` and builds the log values.
        2. If a loss term is NaN or infinite on any rank (all ranks decide
           together), :attr:`nonfinite_loss` says what happens:

           - ``'raise'``: a ``FloatingPointError`` naming the iteration and
             the terms, before ``optim_wrapper.update_params`` runs;
           - ``'skip'``: a warning naming them; the buffers (e.g. BN
             running statistics) are restored to their values before the
             forward (see :meth:`remember_buffers`), and the returned loss
             is a zero that reaches no parameter, so the backward pass
             gives no gradient and the optimizer, which steps only
             parameters with gradients, changes no weight and no state.
             The log values keep the non-finite ones, so the logs show
             them.

        Args:
            losses (dict): The raw losses of :meth:`loss`.

        Returns:
            tuple[Tensor, dict]: The loss to back-propagate and the log
            values.

        Raises:
            FloatingPointError: With ``nonfinite_loss='raise'``.
        """
        loss, log_vars = super().parse_losses(losses)
        device = loss.device if isinstance(loss, torch.Tensor) else 'cpu'
        terms = nonfinite_terms(log_vars)
        if not any_rank(bool(terms), device):
            return loss, log_vars
        action = check_nonfinite_action(self.nonfinite_loss,
                                        f'{type(self).__name__}'
                                        '.nonfinite_loss')
        message = nonfinite_message(terms, train_position())
        if action == 'raise':
            raise FloatingPointError(
                message + ' Training stopped before the optimizer step: no '
                'weight was updated from this loss and no checkpoint was '
                'written.' + NONFINITE_HINT)
        warnings.warn(
            message + ' The batch is skipped: no weight, buffer or '
            'optimizer state changes.', stacklevel=2)
        self._restore_buffers()
        return torch.zeros((), device=device, requires_grad=True), log_vars

    def remember_buffers(self) -> None:
        """With ``nonfinite_loss='skip'``, copy every buffer.

        A training forward changes buffers (BN running statistics) before
        any loss is known; a skipped batch puts them back from this copy.
        :meth:`forward` calls it in ``'loss'`` mode; an algorithm with its
        own ``train_step`` calls it before each forward whose losses go to
        :meth:`parse_losses`. It costs one copy of the buffers per step,
        and nothing with ``'raise'``.
        """
        self._saved_buffers = [
            (b, b.detach().clone()) for b in self.buffers()
        ] if self.nonfinite_loss == 'skip' else None

    @torch.no_grad()
    def _restore_buffers(self) -> None:
        for buffer, saved in getattr(self, '_saved_buffers', None) or ():
            buffer.copy_(saved)
        self._saved_buffers = None

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor') -> ForwardResults:
        """Run in one of three modes.

        Args:
            inputs (Tensor): The preprocessed batch.
            data_samples (list, optional): Annotations of the batch.
            mode (str): ``'loss'`` returns a dict of losses, ``'tensor'`` the
                raw outputs, ``'predict'`` the data samples with predictions.
                Defaults to ``'tensor'``.

        Returns:
            dict | tuple | Tensor | list: As described for ``mode``.
        """
        if mode == 'loss':
            self.remember_buffers()
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        if mode == 'predict':
            return self._predict(inputs, data_samples)
        raise ValueError(f'{type(self).__name__}.forward: `mode` must be '
                         f"'loss', 'tensor' or 'predict', but got {mode!r}")

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """Losses of the architecture on a batch."""
        return self.architecture(inputs, data_samples, mode='loss')

    def _forward(self,
                 inputs: torch.Tensor,
                 data_samples: Optional[List[BaseDataElement]] = None
                 ) -> TensorResults:
        """Raw outputs of the architecture."""
        return self.architecture(inputs, data_samples, mode='tensor')

    def _predict(self,
                 inputs: torch.Tensor,
                 data_samples: Optional[List[BaseDataElement]] = None
                 ) -> PredictResults:
        """Predictions of the architecture."""
        return self.architecture(inputs, data_samples, mode='predict')
