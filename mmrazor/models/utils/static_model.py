# Copyright (c) OpenMMLab. All rights reserved.
"""Export of a supernet at its current choice to a static model."""
import copy

import torch.nn as nn

from ..architectures.dynamic_ops import DynamicOpMixin
from ..mutables import BaseMutable


def export_static_model(model: nn.Module, inplace: bool = False) -> nn.Module:
    """Replace every mutable op and dynamic op of ``model`` by its choice.

    Each mutable that has ``to_static_op()`` (such as ``OneShotMutableOP``)
    is swapped for the plain module it returns, which keeps the mutable's
    ``state_dict`` keys for the chosen op: a supernet checkpoint loads into
    the result unchanged, and its outputs equal the supernet's at that
    choice. Each dynamic op (``DynamicConv2d``, ``DynamicSequential``...)
    becomes the plain ``torch.nn`` op of its current sub-shape, with copied
    weights. Children are converted before their parents. Mutables without
    ``to_static_op`` (plain values) stay in place. Forward hooks (such as
    the recorders of a distiller) are not carried into the static model.

    Args:
        model (nn.Module): A supernet whose mutables all have a current
            choice (set by a mutator or fixed by ``load_fix_subnet``).
        inplace (bool): Whether to change ``model`` itself instead of a deep
            copy. Defaults to False.

    Returns:
        nn.Module: The static model.
    """
    if not inplace:
        model = copy.deepcopy(model)
    for module in model.modules():
        module._forward_hooks.clear()
        module._forward_pre_hooks.clear()
    _replace_children(model)
    return model


def _is_convertible(module: nn.Module) -> bool:
    return isinstance(module, (BaseMutable, DynamicOpMixin)) and \
        hasattr(module, 'to_static_op')


def _replace_children(parent: nn.Module) -> None:
    for name, child in list(parent.named_children()):
        if name == 'mutable_attrs' and isinstance(parent, DynamicOpMixin):
            continue
        if isinstance(child, BaseMutable) and _is_convertible(child):
            # a mutable op chooses first: only its chosen op is converted
            child = child.to_static_op()
            setattr(parent, name, child)
        _replace_children(child)
        if _is_convertible(child):
            static = child.to_static_op()
            static.train(child.training)
            setattr(parent, name, static)


def count_mutables(model: nn.Module) -> int:
    """Number of mutables left in ``model``."""
    return sum(isinstance(m, BaseMutable) for m in model.modules())
