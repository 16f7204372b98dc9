# Copyright (c) OpenMMLab. All rights reserved.
"""The builders of pruned models that configs name.

``GroupFisherDeploySubModel`` rebuilds the static pruned model of a
structure from the unpruned architecture (test and deploy configs);
``GroupFisherSubModel`` exports it from a pruning checkpoint (fine-tune
configs). The names are the original MMRazor's, and serve every pruning
algorithm here (``ItePruneAlgorithm``, ``GroupFisherAlgorithm``, ``DCFF``).
"""
import copy
import json
import logging
from typing import Any, Dict, Optional, Union

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmrazor.registry import MODELS
from mmrazor.utils._mmengine_compat import mark_initialized
from mmrazor.utils.channels import choice_to_channels

from ...utils.prune_export import export_pruned_model
from ...utils.static_model import export_static_model
from ._structure import load_target, units_by_name

#: The channel analyzer of ``GroupFisherDeploySubModel``.
DEFAULT_PARSE_CFG = dict(type='ChannelAnalyzer', demo_input=(1, 3, 224, 224))


def _build_architecture(architecture: Union[Dict, nn.Module],
                        data_preprocessor: Optional[Dict]) -> nn.Module:
    if isinstance(architecture, dict):
        architecture = copy.deepcopy(architecture)
        if data_preprocessor is not None:
            architecture.setdefault('data_preprocessor', data_preprocessor)
        architecture = MODELS.build(architecture)
    if not isinstance(architecture, nn.Module):
        raise TypeError('`architecture` must be a config dict or an '
                        f'nn.Module, but got {type(architecture).__name__}')
    return architecture


@MODELS.register_module()
def GroupFisherDeploySubModel(architecture: Union[Dict, nn.Module],
                              fix_subnet: Union[str, Dict, None] = None,
                              mutable_cfg: Union[str, Dict, None] = None,
                              divisor: int = 1,
                              parse_cfg: Dict = DEFAULT_PARSE_CFG,
                              data_preprocessor: Optional[Dict] = None,
                              init_cfg: Optional[Dict] = None) -> nn.Module:
    """The static pruned model of a structure, built from the original
    architecture: what deploy and test configs of pruned models build.

    The architecture is traced into channel units (``parse_cfg``); each
    unit of the structure keeps its first ``n`` channels, and every layer
    becomes the plain layer of that size. The result has the architecture's
    class and ``state_dict`` keys, with the shapes of a model exported by
    :func:`export_pruned_model` (or by
    ``tools/pruning/get_static_model_from_algorithm.py``) with the same
    structure, so those weights load into it (``load_from`` or a test
    checkpoint). The name is the original MMRazor's, for all pruning
    algorithms.

    Args:
        architecture (dict | nn.Module): The unpruned model (config).
        fix_subnet (dict | str, optional): The structure ``{unit name:
            channels (int) or ratio (float)}`` (or unit configs with a
            ``choice``), or its json/yaml file. Units left out keep all
            their channels, with a warning naming them (the original's
            published deploy configs leave out one unit each); a structure
            that names none of the units is an error.
        mutable_cfg (dict | str, optional): Another name of ``fix_subnet``
            (the original group-fisher deploy configs use it); give one.
        divisor (int): Round every count up to a multiple of it (at most
            the unit's channels). Defaults to 1. Exported weights fit only
            the counts they were exported with.
        parse_cfg (dict): The channel analyzer config. Defaults to a
            ``ChannelAnalyzer`` at 224x224.
        data_preprocessor (dict, optional): The runner passes a config's
            top-level ``data_preprocessor`` here; used when the architecture
            config has none.
        init_cfg (dict, optional): Initialisation config of the result.
            Defaults to None: the architecture's is dropped (a pretrained
            full-size checkpoint does not fit the pruned shapes).

    Returns:
        nn.Module: The static pruned model.
    """
    from mmrazor.models.mutators import ChannelMutator
    if fix_subnet is not None and mutable_cfg is not None:
        raise ValueError('GroupFisherDeploySubModel: give `fix_subnet` or '
                         '`mutable_cfg`, not both')
    if isinstance(divisor, bool) or not isinstance(divisor, int) or \
            divisor < 1:
        raise ValueError(f'GroupFisherDeploySubModel: `divisor` must be an '
                         f'int >= 1, but got {divisor!r}')
    field = 'fix_subnet' if mutable_cfg is None else 'mutable_cfg'
    structure = load_target(
        fix_subnet if mutable_cfg is None else mutable_cfg, field)
    model = _build_architecture(architecture, data_preprocessor)
    mutator = ChannelMutator(
        channel_unit_cfg=dict(
            type='SequentialMutableChannelUnit',
            default_args=dict(choice_mode='number')),
        parse_cfg=parse_cfg)
    mutator.prepare_from_supernet(model)
    units = units_by_name(mutator, structure, field,
                          'GroupFisherDeploySubModel')
    missing = sorted(set(units) - set(structure))
    given = fix_subnet is not None or mutable_cfg is not None
    if given and missing and len(missing) == len(units):
        raise KeyError(
            f'GroupFisherDeploySubModel: `{field}` names none of the '
            f'{len(units)} channel units of the architecture (e.g. '
            f'{missing[:3]}); it is empty or the structure of another '
            'model. Give the structure exported with the pruned weights.')
    if given and missing:
        print_log(
            f'GroupFisherDeploySubModel: `{field}` lacks {len(missing)} of '
            f'the {len(units)} channel units of the architecture; they stay '
            f'unpruned: {missing}. Weights exported from a model where they '
            'were pruned will not fit them.',
            logger='current', level=logging.WARNING)
    for name, value in structure.items():
        unit = units[name]
        # a float is a ratio, an int a count; rounded up to the divisor
        unit.current_choice = choice_to_channels(
            value, unit.num_channels, None,
            f'GroupFisherDeploySubModel: unit {name!r}', divisor,
            round_up=True)
    export_static_model(model, inplace=True)
    for module in model.modules():
        if hasattr(module, 'init_cfg'):
            module.init_cfg = None
    if init_cfg is not None:
        model.init_cfg = init_cfg
    return model


@MODELS.register_module()
def GroupFisherSubModel(algorithm: Union[Dict, nn.Module],
                        divisor: int = 1,
                        data_preprocessor: Optional[Dict] = None,
                        **kwargs: Any) -> nn.Module:
    """The static pruned model of a pruning checkpoint, for fine-tuning.

    Builds the pruning ``algorithm`` (``GroupFisherAlgorithm``,
    ``ItePruneAlgorithm``, ``DCFF``), runs its ``init_weights`` (whose
    ``init_cfg`` should load the pruning checkpoint, which carries the
    structure), and returns the exported static architecture, with the
    algorithm's data preprocessor. The result counts as initialised: the
    runner's ``init_weights`` leaves its weights alone. The structure is
    logged. The name is the original MMRazor's, for all pruning algorithms.

    Args:
        algorithm (dict | nn.Module): The pruning algorithm (config), e.g.
            the ``model`` of a prune config with
            ``init_cfg=dict(type='Pretrained', checkpoint=PRUNED)``.
        divisor (int): Must be 1 (kept for the original configs; channel
            counts are those of the checkpoint).
        data_preprocessor (dict, optional): The runner's top-level
            ``data_preprocessor``; given to the algorithm config when it has
            none.
        **kwargs: Ignored, with a warning (the original accepted any key;
            its distillation fine-tune config passes ``_delete_``, which
            mmengine leaves in a dict that is not merged into a base).

    Returns:
        nn.Module: The static pruned architecture.
    """
    ignored = sorted(k for k in kwargs if k != '_delete_')
    if ignored:
        print_log(f'GroupFisherSubModel ignores the keys {ignored}',
                  logger='current', level=logging.WARNING)
    if divisor != 1:
        raise ValueError('GroupFisherSubModel: only divisor=1 is supported '
                         f'(the checkpoint fixes the counts), got {divisor!r}')
    if isinstance(algorithm, dict):
        algorithm = copy.deepcopy(algorithm)
        if data_preprocessor is not None:
            algorithm.setdefault('data_preprocessor', data_preprocessor)
        algorithm = MODELS.build(algorithm)
    if not hasattr(algorithm, 'architecture') or \
            not hasattr(algorithm, 'mutator'):
        raise TypeError('GroupFisherSubModel: `algorithm` must be a pruning '
                        'algorithm with `architecture` and `mutator`, but got'
                        f' {type(algorithm).__name__}')
    algorithm.init_weights()
    static, structure = export_pruned_model(algorithm)
    print_log('GroupFisherSubModel: pruning structure ' +
              json.dumps(structure), logger='current')
    static.data_preprocessor = algorithm.data_preprocessor
    for module in static.modules():
        if hasattr(module, 'init_cfg'):
            module.init_cfg = None
        if isinstance(module, BaseModule):
            mark_initialized(module)
    return static
