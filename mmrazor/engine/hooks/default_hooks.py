# Copyright (c) OpenMMLab. All rights reserved.
"""The hooks ``tools/train.py`` adds to every training config."""
from typing import List, Union

from mmengine.config import Config, ConfigDict

from .nonfinite_loss_hook import NonFiniteLossHook
from .random_state_hook import RandomStateHook

#: ``{class: config}`` of the hooks :func:`add_default_hooks` adds.
DEFAULT_HOOKS = {
    NonFiniteLossHook: dict(type='mmrazor.NonFiniteLossHook', action='raise'),
    RandomStateHook: dict(type='mmrazor.RandomStateHook'),
}


def _hook_name(cfg: Union[dict, object]) -> str:
    """The class name a ``custom_hooks`` entry builds, without scope."""
    hook_type = cfg.get('type') if isinstance(cfg, dict) else type(cfg)
    if isinstance(hook_type, type):
        return hook_type.__name__
    return str(hook_type).rsplit('.', 1)[-1]


def add_default_hooks(cfg: Config) -> List[str]:
    """Append mmrazor's default hooks to ``cfg.custom_hooks``.

    A hook is added unless ``custom_hooks`` already has one of its class
    (under any scope prefix), so a config changes a default by listing the
    hook itself, e.g. ``dict(type='mmrazor.NonFiniteLossHook',
    action='skip')``. The defaults are:

    - :class:`NonFiniteLossHook` (``action='raise'``): training stops at a
      NaN or infinite loss;
    - :class:`RandomStateHook`: checkpoints hold the random generators, so
      that ``--resume`` continues exactly.

    Args:
        cfg (Config): A training config, changed in place.

    Returns:
        list[str]: The names of the hooks added.

    Raises:
        TypeError: If ``cfg.custom_hooks`` is not a list.
    """
    hooks = cfg.get('custom_hooks') or []
    if not isinstance(hooks, (list, tuple)):
        raise TypeError(
            f'custom_hooks must be a list of hook configs, but got '
            f'{type(hooks).__name__}: {hooks!r}.')
    present = {_hook_name(h) for h in hooks}
    added = []
    hooks = list(hooks)
    for hook_cls, hook_cfg in DEFAULT_HOOKS.items():
        if hook_cls.__name__ not in present:
            hooks.append(ConfigDict(hook_cfg))
            added.append(hook_cls.__name__)
    cfg.custom_hooks = hooks
    return added
