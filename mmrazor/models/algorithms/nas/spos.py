# Copyright (c) OpenMMLab. All rights reserved.
"""Single Path One-Shot NAS."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.registry import MODELS, in_mmrazor_scope

from ...mutators import NasMutator
from ..base import BaseAlgorithm, LossResults, build_component


@MODELS.register_module()
class SPOS(BaseAlgorithm):
    """Single Path One-Shot NAS: train a supernet one random path at a time.

    Guo et al., "Single Path One-Shot Neural Architecture Search with Uniform
    Sampling", ECCV 2020 (https://arxiv.org/abs/1904.00420).

    Each training step samples one choice per search group uniformly at
    random (a single path), sets it and runs the architecture's loss, so
    only that path is trained in the step. Evaluation runs the subnet that is
    currently set. A search loop later evaluates many paths with the trained
    weights; the best subnet is retrained alone (see
    :func:`mmrazor.models.utils.sub_model`). Under DDP, set
    ``find_unused_parameters=True`` since each step uses one path only.

    Args:
        architecture (dict | BaseModel): The supernet, e.g. an mmcls
            ``ImageClassifier`` whose backbone is ``SearchableShuffleNetV2``.
        mutator (dict | NasMutator): The mutator. Defaults to
            ``dict(type='NasMutator')``.
        norm_training (bool): Whether BN layers stay in training mode (batch
            statistics) during evaluation, which suits a supernet whose
            running statistics mix many paths. Defaults to False.
        data_preprocessor (dict | nn.Module, optional): Batch preprocessor.
            Defaults to None: the architecture's own.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[NasMutator, Dict] = dict(type='NasMutator'),
                 norm_training: bool = False,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        if isinstance(mutator, dict):
            mutator = in_mmrazor_scope(mutator)
        self.mutator = build_component(mutator, NasMutator, 'mutator',
                                       'SPOS')
        self.mutator.prepare_from_supernet(self.architecture)
        self.norm_training = norm_training

    def sample_subnet(self) -> Dict:
        """Draw a random single path: ``{search group: choice}``."""
        return self.mutator.sample_choices()

    def set_subnet(self, subnet: Dict) -> None:
        """Make ``subnet`` (``{search group: choice}``) the current path."""
        self.mutator.set_choices(subnet)

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None
             ) -> LossResults:
        """Sample and set a random path, then return its losses."""
        self.set_subnet(self.sample_subnet())
        return self.architecture(inputs, data_samples, mode='loss')

    def train(self, mode: bool = True) -> 'SPOS':
        """Set the mode; with ``norm_training``, BN stays in training mode."""
        super().train(mode)
        if self.norm_training and not mode:
            for module in self.architecture.modules():
                if isinstance(module, _BatchNorm):
                    module.training = True
        return self
