# Copyright (c) OpenMMLab. All rights reserved.
"""The contract every distillation connector follows."""
from abc import abstractmethod
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModule

ConnectorOutput = Union[torch.Tensor, Tuple[torch.Tensor, ...]]


class BaseConnector(BaseModule):
    """Base of connectors: modules that map a recorded feature to the form a
    distillation loss compares.

    A connector usually aligns a student feature with a teacher feature
    (channels, spatial size, normalisation), or turns a feature into the
    several tensors a loss needs. Subclasses implement :meth:`forward_train`;
    :meth:`forward` calls it.

    Args:
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)

    def forward(self, feature: torch.Tensor) -> ConnectorOutput:
        """Connect one feature.

        Args:
            feature (torch.Tensor): The recorded feature.

        Returns:
            torch.Tensor or tuple[torch.Tensor]: What :meth:`forward_train`
            returns.
        """
        return self.forward_train(feature)

    @abstractmethod
    def forward_train(self, feature: torch.Tensor) -> ConnectorOutput:
        """Map ``feature`` to what the loss compares."""
