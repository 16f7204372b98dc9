# Copyright (c) OpenMMLab. All rights reserved.
"""The base of every mmrazor algorithm."""
from typing import Any, Dict, List, Optional, Type, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODELS

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


class BaseAlgorithm(BaseModel):
    """Wraps a model (the ``architecture``) and changes how it trains.

    ``forward`` dispatches on ``mode`` as mmengine models do: ``'loss'`` to
    :meth:`loss`, ``'tensor'`` to :meth:`_forward` and ``'predict'`` to
    :meth:`_predict`, which by default run the architecture in that mode.
    Algorithms customise :meth:`loss` (e.g. sample a subnet, then forward).

    Args:
        architecture (dict | BaseModel): The model, e.g. an mmcls
            ``ImageClassifier``, as a config or built.
        data_preprocessor (dict | nn.Module, optional): Preprocessor of the
            batches. Defaults to None: the architecture's own. A dict without
            ``type`` (as mmengine's Runner passes from a config's top-level
            ``data_preprocessor``) builds the architecture's preprocessor
            class with those arguments.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        architecture = build_component(architecture, BaseModel,
                                       'architecture', type(self).__name__)
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
