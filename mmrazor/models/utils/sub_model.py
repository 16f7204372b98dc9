# Copyright (c) OpenMMLab. All rights reserved.
"""Builder of the static subnet of a supernet config, for retraining."""
from typing import Dict, Optional, Union

import torch.nn as nn

from mmrazor.registry import MODELS
from mmrazor.structures import load_fix_subnet
from mmrazor.structures.subnet.fix_subnet import SubnetSource

from .static_model import export_static_model


@MODELS.register_module()
def sub_model(cfg: Dict,
              fix_subnet: SubnetSource,
              prefix: str = '',
              extra_prefix: str = '',
              init_weight_from_supernet: bool = False,
              init_cfg: Optional[Union[Dict, list]] = None) -> nn.Module:
    """Build the supernet ``cfg``, fix it to ``fix_subnet`` and make it static.

    Used in retraining configs as
    ``model = dict(type='mmrazor.sub_model', cfg=supernet, fix_subnet=...)``.
    The result is the supernet's model class (e.g. an mmcls
    ``ImageClassifier``) holding only the chosen ops, with the supernet's
    ``state_dict`` keys for them, so
    ``init_cfg=dict(type='Pretrained', checkpoint=CKPT,
    prefix='architecture.')`` initialises it from a supernet (``SPOS``)
    checkpoint.

    Args:
        cfg (dict): Config of the supernet model.
        fix_subnet (str | dict): A subnet yaml path or dict, as written by
            :func:`mmrazor.structures.export_fix_subnet`.
        prefix (str): Removed from subnet names that start with it. Defaults
            to ''.
        extra_prefix (str): Added to subnet names after ``prefix`` is
            removed. Defaults to ''.
        init_weight_from_supernet (bool): Whether to run the supernet's own
            ``init_weights`` (e.g. a ``Pretrained`` ``init_cfg`` in ``cfg``)
            before the unused candidates are dropped. Defaults to False.
        init_cfg (dict, optional): Initialisation config of the returned
            model, applied when the runner calls ``init_weights``. Defaults
            to None (keep the supernet's).

    Returns:
        nn.Module: The static subnet.
    """
    model = MODELS.build(cfg)
    if init_weight_from_supernet:
        model.init_weights()
    load_fix_subnet(
        model, fix_subnet, prefix=prefix, extra_prefix=extra_prefix)
    export_static_model(model, inplace=True)
    if init_cfg is not None:
        model.init_cfg = init_cfg
    return model
