# Copyright (c) OpenMMLab. All rights reserved.
"""Builder of the static subnet of a supernet config, for retraining."""
import logging
from typing import Any, Dict, Optional, Union

import torch.nn as nn
from mmengine.logging import print_log

from mmrazor.registry import MODELS
from mmrazor.structures import load_fix_subnet
from mmrazor.structures.subnet.fix_subnet import SubnetSource
from mmrazor.utils.dict_file import load_dict

from .static_model import export_static_model

MODES = ('mutable', 'mutator')


@MODELS.register_module()
def sub_model(cfg: Dict,
              fix_subnet: SubnetSource,
              mode: str = 'mutable',
              prefix: str = '',
              extra_prefix: str = '',
              init_weight_from_supernet: bool = False,
              init_cfg: Optional[Union[Dict, list]] = None,
              **kwargs: Any) -> nn.Module:
    """Build the supernet ``cfg``, fix it to ``fix_subnet`` and make it static.

    Used in retraining configs as
    ``model = dict(type='mmrazor.sub_model', cfg=supernet, fix_subnet=...)``.
    The result is the supernet's model class (e.g. an mmcls
    ``ImageClassifier``) holding only the chosen ops, with the supernet's
    ``state_dict`` keys for them, so
    ``init_cfg=dict(type='Pretrained', checkpoint=CKPT,
    prefix='architecture.')`` initialises it from a supernet (``SPOS``)
    checkpoint.

    With ``mode='mutator'`` (the original MMRazor's form for pruned
    models, e.g. its DCFF compact config) ``fix_subnet`` is instead a
    channel structure: a channel mutator config whose
    ``channel_unit_cfg.units`` give each unit's ``choice`` (what the
    original's pruning runs saved as ``fix_subnet.json``), or a plain
    ``{unit name: choice}``; the model is then built as
    :func:`GroupFisherDeploySubModel` builds it.

    ``cfg`` may be ``dict(cfg_path='mmcls::...', pretrained=False)``, the
    ``model`` of another package's config. A subnet config that inherits
    its supernet's ``model`` dict (the original's BigNAS and SPOS
    MobileNet subnet configs) passes the supernet algorithm's keys too
    (``architecture``, ``mutator``, ...): they are ignored, with a warning.

    Args:
        cfg (dict): Config of the supernet model.
        fix_subnet (str | dict): A subnet yaml path or dict, as written by
            :func:`mmrazor.structures.export_fix_subnet` (or a channel
            structure with ``mode='mutator'``).
        mode (str): ``'mutable'`` (a subnet of mutables) or ``'mutator'``
            (a channel structure). Defaults to 'mutable'.
        prefix (str): Removed from subnet names that start with it. Defaults
            to ''.
        extra_prefix (str): The prefix the subnet's names have and the
            model's lack (``'backbone.'`` for a backbone built alone from a
            classifier's subnet file, as the original's DetNAS config does);
            removed from the subnet's names. Defaults to ''.
        init_weight_from_supernet (bool): Whether to run the supernet's own
            ``init_weights`` (e.g. a ``Pretrained`` ``init_cfg`` in ``cfg``)
            before the unused candidates are dropped. Defaults to False.
        init_cfg (dict, optional): Initialisation config of the returned
            model, applied when the runner calls ``init_weights``. Defaults
            to None (keep the supernet's).
        **kwargs: Keys a subnet config inherits from its supernet's model
            dict; ignored, with a warning.

    Returns:
        nn.Module: The static subnet.
    """
    if mode not in MODES:
        raise ValueError(f'sub_model: `mode` must be one of {list(MODES)}, '
                         f'but got {mode!r}')
    ignored = sorted(k for k in kwargs if k != '_delete_')
    if ignored:
        print_log(
            f'sub_model ignores the keys {ignored}: a subnet config that '
            "inherits its supernet's model dict passes them (set "
            '`_delete_=True` in its `model` to drop them).',
            logger='current', level=logging.WARNING)
    cfg = resolve_cfg_path(cfg, 'cfg', 'sub_model')
    if mode == 'mutator':
        return _channel_sub_model(cfg, fix_subnet, init_cfg)
    model = MODELS.build(cfg)
    if init_weight_from_supernet:
        model.init_weights()
    load_fix_subnet(
        model, fix_subnet, prefix=prefix, extra_prefix=extra_prefix)
    export_static_model(model, inplace=True)
    if init_cfg is not None:
        model.init_cfg = init_cfg
    return model


def resolve_cfg_path(cfg: Any, field: str, owner: str) -> Any:
    """The model config a ``dict(cfg_path=..., pretrained=...)`` reference
    names (the original MMRazor's form, accepted wherever a model config
    is), with a ``Pretrained`` ``init_cfg`` for the weights it asks for.
    Any other value is returned as is.

    See :func:`mmrazor.models.algorithms.distill._model_cfg.
    resolve_model_cfg` for how the reference is read.

    Args:
        cfg (Any): The argument as given.
        field (str): Its name, for messages.
        owner (str): The receiver, for messages.

    Returns:
        Any: The model config, or ``cfg`` itself.
    """
    from mmrazor.models.algorithms.distill._model_cfg import resolve_model_cfg
    model_cfg, checkpoint = resolve_model_cfg(cfg, field, owner)
    if checkpoint is not None:
        model_cfg['init_cfg'] = dict(type='Pretrained', checkpoint=checkpoint)
    return model_cfg


def _channel_sub_model(cfg: Dict, structure: Union[str, Dict],
                       init_cfg: Optional[Union[Dict, list]]) -> nn.Module:
    """``sub_model(mode='mutator')``: the static model of a channel
    structure, as :func:`GroupFisherDeploySubModel` builds it."""
    from ..algorithms.pruning.pruned_sub_models import (
        DEFAULT_PARSE_CFG,
        GroupFisherDeploySubModel,
    )
    structure = load_dict(structure, 'fix_subnet',
                          'a channel mutator config or {unit name: choice}')
    parse_cfg = DEFAULT_PARSE_CFG
    if 'channel_unit_cfg' in structure:
        parse_cfg = dict(structure.get('parse_cfg') or parse_cfg)
        # the original's key; the analyzer here always traces
        parse_cfg.pop('from_cfg', None)
        structure = structure['channel_unit_cfg'].get('units') or {}
    return GroupFisherDeploySubModel(
        cfg, fix_subnet=dict(structure), parse_cfg=parse_cfg,
        init_cfg=init_cfg)
