# Copyright (c) OpenMMLab. All rights reserved.
"""Refuse checkpoints whose weights do not fit the model they load into.

mmengine loads state dicts non-strictly and only warns about missing keys, so
a checkpoint whose keys match nothing (a wrong prefix, an empty state dict,
another model's file) trains from scratch or evaluates random weights with
exit status 0. :func:`install_weights_fit_check` wraps mmengine's
``load_state_dict`` (used by ``Runner`` ``load_from``/``resume``,
``load_checkpoint`` and ``init_cfg=dict(type='Pretrained')``) so that a load
in which fewer than ``min_loaded_ratio`` of the model's tensors find a
same-shaped tensor in the checkpoint raises an error naming the prefix that
would have matched. :func:`set_min_loaded_ratio` (``--allow-partial-load`` in
the tools) lowers or turns off the check.
"""
from collections import Counter
from typing import Any, Dict, List, Mapping, Optional, Tuple

from mmengine.runner import checkpoint as mmengine_checkpoint
from torch import nn

DEFAULT_MIN_LOADED_RATIO = 0.1
_min_loaded_ratio = DEFAULT_MIN_LOADED_RATIO


def set_min_loaded_ratio(ratio: float) -> None:
    """Set the share of a model's tensors a checkpoint must fill.

    Args:
        ratio: In ``[0, 1]``; 0 turns the check off. Defaults to 0.1.

    Raises:
        ValueError: If ``ratio`` is outside ``[0, 1]``.
    """
    global _min_loaded_ratio
    if not 0 <= ratio <= 1:
        raise ValueError(f'min_loaded_ratio must be in [0, 1], got {ratio}')
    _min_loaded_ratio = float(ratio)


def _prefixes(keys: List[str], depth: int = 2) -> Counter:
    counts: Counter = Counter()
    for key in keys:
        parts = key.split('.')[:-1]
        for i in range(1, min(depth, len(parts)) + 1):
            counts['.'.join(parts[:i]) + '.'] += 1
    return counts


def suggest_prefix(model_keys: List[str],
                   ckpt_keys: List[str]) -> Optional[Tuple[str, str, int]]:
    """Find the prefix whose removal makes most keys match.

    Args:
        model_keys: Keys of the model's state dict.
        ckpt_keys: Keys of the checkpoint's state dict.

    Returns:
        ``(side, prefix, matches)`` where ``side`` is ``'checkpoint'`` (the
        checkpoint's keys carry ``prefix`` on top of the model's) or
        ``'model'`` (the model's keys carry it), or None if no prefix helps.
    """
    model_set, ckpt_set = set(model_keys), set(ckpt_keys)
    best = None
    for side, keys, other in (('checkpoint', ckpt_keys, model_set),
                              ('model', model_keys, ckpt_set)):
        for prefix in _prefixes(keys):
            hits = sum(1 for k in keys
                       if k.startswith(prefix) and k[len(prefix):] in other)
            if hits and (best is None or hits > best[2]):
                best = (side, prefix, hits)
    return best


def check_weights_fit(module: nn.Module, state_dict: Mapping[str, Any],
                      min_loaded_ratio: Optional[float] = None) -> None:
    """Raise if too few of ``module``'s tensors are in ``state_dict``.

    Args:
        module: The model being loaded.
        state_dict: The checkpoint's state dict (keys already revised).
        min_loaded_ratio: Overrides the process-wide setting.

    Raises:
        RuntimeError: If fewer than the ratio of the model's tensors (BN's
            ``num_batches_tracked`` aside) have a same-shaped tensor in
            ``state_dict``; the message names the prefix that would match.
    """
    ratio = _min_loaded_ratio if min_loaded_ratio is None else \
        min_loaded_ratio
    own: Dict[str, Any] = {
        k: v
        for k, v in module.state_dict().items()
        if not k.endswith('num_batches_tracked') and hasattr(v, 'shape')
    }
    if ratio <= 0 or not own:
        return
    loaded = sum(1 for k, v in own.items()
                 if k in state_dict and getattr(state_dict[k], 'shape', None)
                 == v.shape)
    if loaded >= ratio * len(own):
        return
    message = (
        f'The checkpoint fills only {loaded} of the {len(own)} tensors of '
        f'{type(module).__name__} (at least {ratio:.0%} are required): its '
        f'{len(state_dict)} keys (e.g. {sorted(state_dict)[:2]}) do not '
        f'match the model\'s (e.g. {sorted(own)[:2]}).')
    misshapen = [k for k in own if k in state_dict
                 and getattr(state_dict[k], 'shape', None) != own[k].shape]
    hint = suggest_prefix(list(own), [str(k) for k in state_dict])
    if misshapen:
        key = misshapen[0]
        message += (
            f' {len(misshapen)} keys match by name but not by shape, e.g. '
            f'{key!r}: {tuple(getattr(state_dict[key], "shape", ()))} in '
            f'the checkpoint, {tuple(own[key].shape)} in the model (another '
            'width or number of classes?).')
    elif hint is not None:
        side, prefix, hits = hint
        if side == 'checkpoint':
            message += (
                f' {hits} would match without the prefix {prefix!r} of the '
                "checkpoint's keys: use init_cfg=dict(type='Pretrained', "
                f"checkpoint=..., prefix={prefix!r}) or strip it with "
                f"revise_keys=[(r'^{prefix.replace('.', '[.]')}', '')].")
        else:
            message += (
                f" {hits} would match the model's keys under {prefix!r}: "
                f"load the checkpoint into that submodule (e.g. the "
                f"init_cfg of {prefix[:-1]!r}) or add the prefix to its keys.")
    elif not state_dict:
        message += ' The checkpoint holds no weights at all.'
    message += (' If a partial load is intended, pass --allow-partial-load '
                'to the tool (or call mmrazor.utils.weights_fit.'
                'set_min_loaded_ratio(0)).')
    raise RuntimeError(message)


_original_load_state_dict = mmengine_checkpoint.load_state_dict


def _checked_load_state_dict(module: nn.Module,
                             state_dict: Mapping[str, Any],
                             strict: bool = False,
                             logger: Any = None) -> None:
    """mmengine's ``load_state_dict`` after :func:`check_weights_fit`."""
    target = getattr(module, 'module', module)  # DDP wrappers
    check_weights_fit(target, state_dict)
    _original_load_state_dict(module, state_dict, strict, logger)


def install_weights_fit_check() -> None:
    """Make mmengine's checkpoint loading check the fit first (idempotent).

    mmengine's ``_load_checkpoint_to_model`` looks ``load_state_dict`` up in
    its module at call time, so replacing it there covers ``Runner``,
    ``load_checkpoint`` and ``Pretrained`` initialisation.
    """
    mmengine_checkpoint.load_state_dict = _checked_load_state_dict
