# Copyright (c) OpenMMLab. All rights reserved.
"""The pruning structure of a channel mutator: read, save and restore."""
import os
from typing import Any, Dict, Iterable, Union

import torch

from mmrazor.utils.dict_file import load_dict
from mmrazor.utils.validators import did_you_mean

from ...mutables import SimpleMutableChannel
from ...mutators import ChannelMutator

Choice = Union[int, float]


def pruning_structure(mutator: ChannelMutator) -> Dict[str, int]:
    """``{unit name: number of active channels}`` of every unit."""
    return {unit.name: int(unit.activated_channels) for unit in mutator.units}


def structure_state(mutator: ChannelMutator) -> Dict[str, Any]:
    """What a checkpoint must hold to restore the structure exactly.

    The choice of every unit and, for mask units (L1, Group Fisher), the
    mask itself: their mask is not a persistent buffer, and recomputing it
    from the choice (e.g. the L1 top-k of trained weights) could select
    other channels than those the model was trained with.

    Returns:
        dict: ``{'choices': {name: choice}, 'masks': {name: bool tensor}}``
        (plain types, loadable with ``torch.load(weights_only=True)``).
    """
    choices, masks = {}, {}
    for unit in mutator.units:
        choices[unit.name] = unit.current_choice
        if isinstance(unit.mutable_channel, SimpleMutableChannel):
            masks[unit.name] = unit.current_mask.detach().cpu().clone()
    return dict(choices=choices, masks=masks)


def load_structure_state(mutator: ChannelMutator,
                         state: Dict[str, Any]) -> None:
    """Restore what :func:`structure_state` returned.

    Units of ``mutator`` missing from ``state`` are left as they are.

    Raises:
        ValueError: A mask does not fit its unit.
    """
    by_name = {unit.name: unit for unit in mutator.units}
    for name, choice in state.get('choices', {}).items():
        if name in by_name:
            by_name[name].current_choice = choice
    for name, mask in state.get('masks', {}).items():
        unit = by_name.get(name)
        if unit is None:
            continue
        mask = torch.as_tensor(mask, dtype=torch.bool)
        if mask.shape != (unit.num_channels, ):
            raise ValueError(
                f'The saved mask of unit {name!r} has shape '
                f'{tuple(mask.shape)}, but the unit has {unit.num_channels} '
                'channels: the checkpoint is of another model')
        unit.mutable_channel.current_choice = mask


def load_target(target: Union[None, str, os.PathLike, Dict],
                field: str = 'target_pruning_ratio') -> Dict[str, Choice]:
    """``{unit name: choice}`` from a dict or a json / yaml file.

    Values may be choices (a ratio as a float, a count as an int) or unit
    configs holding a ``choice`` (the format of
    ``ChannelMutator.config_template``).

    Args:
        target: The dict, its file, or None (an empty target).
        field (str): The argument name, for error messages.

    Returns:
        dict: The target choices.
    """
    target = load_dict(target, field, '{unit name: choice}')
    result = {}
    for name, value in target.items():
        if isinstance(value, dict):
            if 'choice' not in value:
                raise ValueError(f'`{field}`[{name!r}] is a dict without a '
                                 f'"choice": {value!r}')
            value = value['choice']
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(
                f'`{field}`[{name!r}] must be a ratio (float) or a number of '
                f'channels (int), but got {value!r}')
        result[name] = value
    return result


def units_by_name(mutator: ChannelMutator, names: Iterable[str],
                  field: str, owner: str = '') -> Dict[str, Any]:
    """``{name: unit}`` of ``mutator``; raise if ``names`` has unknown ones.

    Args:
        mutator (ChannelMutator): A prepared channel mutator.
        names (Iterable[str]): Unit names a config gives.
        field (str): The argument that gave them, for messages.
        owner (str): Who asks, prefixed to messages. Defaults to ''.

    Returns:
        dict: Every unit of the mutator by name.
    """
    by_name = {unit.name: unit for unit in mutator.units}
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        prefix = f'{owner}: ' if owner else ''
        raise KeyError(
            f'{prefix}`{field}` names units {unknown[:3]} that are not '
            f'prunable units of the model.{did_you_mean(unknown[0], by_name)}'
            f' Some units are {sorted(by_name)[:3]} (dump them all with '
            'mutator.config_template()).')
    return by_name


def check_target(mutator: ChannelMutator, target: Dict[str, Choice],
                 field: str = 'target_pruning_ratio') -> None:
    """Raise if ``target`` names unknown units or choices they refuse."""
    by_name = units_by_name(mutator, target, field)
    for name, choice in target.items():
        by_name[name].check_choice(choice)
