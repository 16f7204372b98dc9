# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers shared by the differentiable mutables (DARTS, DSNAS).

A differentiable mutable does not own its architecture parameter:
:class:`~mmrazor.models.mutators.NasMutator` creates one per search group
(so that mutables sharing an alias share it) and hands it to every mutable
of the group with ``set_arch_param``. The mutable keeps a plain reference,
outside its ``state_dict``; the parameter is saved once, in the mutator.
"""
import copy
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmrazor.registry import MODELS, in_mmrazor_scope
from mmrazor.utils.validators import did_you_mean

CandidatesType = Union[Dict[str, Union[Dict, nn.Module]], nn.ModuleDict]



def suggest_registered(type_name: str) -> str:
    """``" Did you mean 'X'?"`` for the MODELS names (mmrazor scope and its
    parents) closest to ``type_name``, or ``''``; never the whole list."""
    short = type_name.split('.')[-1]
    names = set(MODELS.module_dict)
    parent = MODELS.parent
    while parent is not None:
        names.update(parent.module_dict)
        parent = parent.parent
    return did_you_mean(short, names)

def build_candidates(owner: str, candidates: CandidatesType,
                     module_kwargs: Optional[Dict[str, Any]]) -> nn.ModuleDict:
    """Build named candidate ops from configs (or keep built modules).

    Args:
        owner (str): Who builds them, for error messages.
        candidates (dict | nn.ModuleDict): ``{name: op config or module}``.
        module_kwargs (dict, optional): Merged into every config (e.g.
            ``in_channels``, ``out_channels``, ``stride``).

    Returns:
        nn.ModuleDict: The candidates, in the given order.
    """
    if not isinstance(candidates, (dict, nn.ModuleDict)):
        raise TypeError(f'{owner}: `candidates` must be a dict of op configs '
                        f'or an nn.ModuleDict, but got {type(candidates)}')
    if len(candidates) == 0:
        raise ValueError(
            f'{owner}: `candidates` is empty; give at least one named op, '
            "e.g. candidates=dict(skip_connect=dict(type='DartsSkipConnect'))")
    ops = OrderedDict()
    for name, op in candidates.items():
        if isinstance(op, nn.Module):
            ops[name] = op
            continue
        if not isinstance(op, dict) or 'type' not in op:
            raise TypeError(f'{owner}: candidate {name!r} must be a module or '
                            f"a config dict with a 'type' key, but got {op!r}")
        cfg = copy.deepcopy(dict(op))
        cfg.update(module_kwargs or {})
        op_type = cfg['type']
        if isinstance(op_type, str) and MODELS.get(op_type) is None:
            raise KeyError(
                f'{owner}: candidate {name!r} has type {op_type!r}, which is '
                'not registered in the mmrazor MODELS registry.'
                f'{suggest_registered(op_type)} Check the spelling or import '
                'the module that registers it.')
        ops[name] = MODELS.build(in_mmrazor_scope(cfg))
    return nn.ModuleDict(ops)


def as_name_list(owner: str, chosen: Union[str, Sequence[str]],
                 choices: List[str]) -> List[str]:
    """``chosen`` (a name or a list of distinct names) as a checked list.

    Args:
        owner (str): Who asks, for error messages.
        chosen (str | list[str]): One choice or several.
        choices (list[str]): The allowed names.

    Returns:
        list[str]: The names, in the given order.
    """
    names = [chosen] if isinstance(chosen, str) else chosen
    if not isinstance(names, (list, tuple)) or not names or not all(
            isinstance(n, str) for n in names):
        raise ValueError(f'{owner} got choice {chosen!r}; give one of '
                         f'{choices} or a non-empty list of them')
    unknown = [n for n in names if n not in choices]
    if unknown or len(set(names)) != len(names):
        raise ValueError(
            f'{owner} got choice {chosen!r}: '
            + (f'{unknown} are not among its choices {choices}'
               if unknown else 'a name is repeated'))
    return list(names)


class ArchParamHolder:
    """Plain mixin: keeps the architecture parameter a mutator hands over.

    The reference lives in ``__dict__`` (not ``_parameters``), so it is not
    in the mutable's ``state_dict`` nor in ``architecture.parameters()``: a
    weight optimizer never sees it. ``deepcopy`` of a model holding both the
    mutator and the mutable keeps them sharing one tensor.
    """

    _arch_param: Optional[Tensor] = None

    def set_arch_param(self, arch_param: Optional[Tensor]) -> None:
        """Attach (or with None detach) the group's architecture parameter.

        Args:
            arch_param (Tensor, optional): A 1-d tensor of
                ``arch_param_size`` entries.
        """
        size = self.arch_param_size  # type: ignore[attr-defined]
        if arch_param is not None and (arch_param.dim() != 1
                                       or arch_param.numel() != size):
            raise ValueError(
                f'{self._describe()}: the architecture parameter '  # type: ignore # noqa: E501
                f'must be 1-d with {size} entries, but got shape '
                f'{tuple(arch_param.shape)}')
        self.__dict__['_arch_param'] = arch_param

    @property
    def arch_param(self) -> Optional[Tensor]:
        """The attached architecture parameter, or None."""
        return self.__dict__.get('_arch_param')


def argmax_name(probs: Tensor, names: List[str],
                exclude: Sequence[str] = ()) -> str:
    """The name of the largest entry of ``probs``, skipping ``exclude``.

    Ties go to the first name. If every name is excluded, the exclusion is
    ignored (a search space made only of ``zero`` keeps ``zero``).
    """
    keep = [i for i, n in enumerate(names) if n not in exclude]
    if not keep:
        keep = list(range(len(names)))
    values = probs.detach()[keep]
    return names[keep[int(torch.argmax(values))]]
