# Copyright (c) OpenMMLab. All rights reserved.
"""The model inside DDP and other wrappers."""
import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside every level of wrapping, or ``model`` itself.

    Strips each wrapper that mmengine's ``MODEL_WRAPPERS`` knows
    (``MMDistributedDataParallel``, ``MMSeparateDistributedDataParallel``,
    torch's ``DistributedDataParallel`` and ``DataParallel``...), however
    deeply nested: loops, hooks, recorders and the channel analyzer then see
    the algorithm or architecture whatever launcher runs them.

    Args:
        model (nn.Module): A model, wrapped or not.

    Returns:
        nn.Module: The innermost model.

    Examples:
        >>> import torch.nn as nn
        >>> net = nn.Linear(2, 2)
        >>> unwrap_model(nn.DataParallel(nn.DataParallel(net))) is net
        True
        >>> unwrap_model(net) is net
        True
    """
    while is_model_wrapper(model):
        model = model.module
    return model
