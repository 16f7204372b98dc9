# Copyright (c) OpenMMLab. All rights reserved.
"""Validation of a distiller's wiring, done when it is built.

* :func:`normalize_types` maps the original MMRazor's short recorder and
  delivery types to our registered names through explicit tables.
* :func:`check_loss_forward_mappings` checks every mapping against the
  losses, recorders and connectors, before any forward.
* :func:`check_pair_shapes` checks the paired student/teacher tensors of one
  loss after the dry forward of :meth:`ConfigurableDistiller.check_shapes`.
"""
import inspect
import logging
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from torch import nn

from mmrazor.utils.validators import close_matches

from ..losses import AngleWiseRKD, ATLoss, DistanceWiseRKD, PKDLoss

#: The original MMRazor's short recorder types and our registered names.
#: The original appended ``'Recorder'`` to the config ``type``; we do not
#: rewrite names, we look them up here, so every name in a config is either
#: a registered name or a key of this table. ``'MethodOutputs'`` and
#: ``'FunctionOutputs'`` are also delivery short names, which is why these
#: are tables of the distiller and not registry aliases.
RECORDER_SHORT_TYPES: Dict[str, str] = {
    'ModuleOutputs': 'ModuleOutputsRecorder',
    'ModuleInputs': 'ModuleInputsRecorder',
    'MethodOutputs': 'MethodOutputsRecorder',
    'MethodInputs': 'MethodInputsRecorder',
    'FunctionOutputs': 'FunctionOutputsRecorder',
    'FunctionInputs': 'FunctionInputsRecorder',
    'Parameter': 'ParameterRecorder',
}

#: The original MMRazor's short delivery types and our registered names.
DELIVERY_SHORT_TYPES: Dict[str, str] = {
    'FunctionOutputs': 'FunctionOutputsDelivery',
    'MethodOutputs': 'MethodOutputsDelivery',
}

#: Loss argument names of the original MMRazor's configs that our losses
#: call differently: ``{original name: our name}``. Used only when the
#: loss's ``forward`` lacks the original name and has ours (DKDLoss and WSLD
#: take ``data_samples``, a label tensor or data samples, where the original
#: took ``gt_labels``; DISTLoss takes ``logits_S``/``logits_T``).
LOSS_ARG_RENAMES: Dict[str, str] = {
    'gt_labels': 'data_samples',
    # the original's group-fisher distillation fine-tune config maps DIST's
    # logits under the names of the logit losses (its DISTLoss refused them)
    'preds_S': 'logits_S',
    'preds_T': 'logits_T',
}

#: Keys of one mapping entry; ``recorder`` and ``from_student`` are
#: required.
MAPPING_KEYS = ('recorder', 'from_student', 'record_idx', 'data_idx',
                'connector', 'connector_idx')

#: Argument pairs (student, teacher) whose shapes the default rule compares.
SHAPE_PAIRS: Tuple[Tuple[str, str], ...] = (
    ('preds_S', 'preds_T'),
    ('s_feature', 't_feature'),
    ('student', 'teacher'),
    ('logits_S', 'logits_T'),
    ('s_feats', 't_feats'),
)

#: Losses that accept pairs differing in some dims: ``{class: (dims
#: compared, description)}``. Every other loss needs equal shapes, unless it
#: defines ``check_shapes(**kwargs)`` (raising ``ValueError``), which wins.
RELAXED_SHAPE_RULES: Dict[type, Tuple[Tuple[int, ...], str]] = {
    ATLoss: ((0, 2, 3), 'the same N, H, W (channels may differ)'),
    PKDLoss: ((0, 1), 'the same N, C (the student is resized)'),
    DistanceWiseRKD: ((0, ), 'the same N (feature dims may differ)'),
    AngleWiseRKD: ((0, ), 'the same N (feature dims may differ)'),
}


def _close(name: str, names) -> str:
    matches = close_matches(name, names, n=3, cutoff=0.5)
    return f' Did you mean {matches}?' if matches else ''


def normalize_types(cfgs: Optional[Mapping], table: Dict[str, str],
                    field: str) -> Dict[str, Any]:
    """Copy ``{name: cfg}``, mapping a short ``type`` through ``table``.

    Args:
        cfgs (Mapping, optional): Recorder or delivery configs.
        table (dict): ``{short name: registered name}``.
        field (str): The argument name, for messages.

    Returns:
        dict: The configs, each ``type`` a registered name.
    """
    out: Dict[str, Any] = {}
    if cfgs is None:
        return out
    if not isinstance(cfgs, Mapping):
        raise TypeError(f'ConfigurableDistiller: `{field}` must be a dict '
                        f'{{name: config}}, but got {type(cfgs).__name__}')
    for name, cfg in cfgs.items():
        if isinstance(cfg, Mapping):
            cfg = dict(cfg)
            if isinstance(cfg.get('type'), str):
                cfg['type'] = table.get(cfg['type'], cfg['type'])
        out[name] = cfg
    return out


def forward_params(loss: nn.Module) -> Tuple[List[str], List[str], bool]:
    """``(argument names, required names, accepts **kwargs)`` of
    ``loss.forward``."""
    params = inspect.signature(loss.forward).parameters.values()
    named = [p for p in params
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    names = [p.name for p in named]
    required = [p.name for p in named if p.default is p.empty]
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    return names, required, var_kw


def check_loss_forward_mappings(
        losses: Mapping[str, nn.Module], mappings: Optional[Mapping],
        student_recorders: Sequence[str], teacher_recorders: Sequence[str],
        connectors: Sequence[str]) -> Dict[str, Dict[str, Dict]]:
    """Check the mappings and return them normalised.

    Every mapping must have a loss (a loss without a mapping is never
    computed, with a warning: the original MMRazor's factor-transfer
    config keeps its pretrain-stage loss that way); every entry must
    name a recorder of its side and an existing connector, and map an
    argument that ``forward`` accepts; every required argument must be
    mapped. Original argument names are renamed through
    :data:`LOSS_ARG_RENAMES` where needed.

    Returns:
        dict: ``{loss name: {forward argument: entry}}``, each entry with
        all of :data:`MAPPING_KEYS`.
    """
    mappings = dict(mappings or {})
    unknown = [name for name in mappings if name not in losses]
    if unknown:
        name = unknown[0]
        raise ValueError(
            f'loss_forward_mappings[{name!r}]: there is no distill loss '
            f'named {name!r}; distill_losses has {sorted(losses)}.'
            f'{_close(name, losses)}')
    unmapped = [name for name in losses if name not in mappings]
    if unmapped:
        print_log(
            f'distill_losses {unmapped} have no entry in '
            'loss_forward_mappings: they are never computed (map their '
            f'arguments or remove them). Mapped losses: {sorted(mappings)}.',
            logger='current', level=logging.WARNING)
    sides = {True: ('student', list(student_recorders)),
             False: ('teacher', list(teacher_recorders))}
    out: Dict[str, Dict[str, Dict]] = {}
    for loss_name, mapping in mappings.items():
        loss = losses[loss_name]
        where = f'loss {loss_name!r} ({type(loss).__name__})'
        if not isinstance(mapping, Mapping):
            raise TypeError(f'loss_forward_mappings[{loss_name!r}] must be '
                            f'a dict {{argument: entry}}, got {mapping!r}.')
        names, required, var_kw = forward_params(loss)
        entries: Dict[str, Dict] = {}
        for arg, entry in mapping.items():
            target = arg
            if (arg not in names and arg in LOSS_ARG_RENAMES
                    and LOSS_ARG_RENAMES[arg] in names):
                target = LOSS_ARG_RENAMES[arg]
            if target not in names and not var_kw:
                raise ValueError(
                    f'{where}: forward() has no argument {arg!r}; it accepts '
                    f'{names}.{_close(arg, names)}')
            if target in entries:
                raise ValueError(f'{where}: argument {target!r} is mapped '
                                 f'twice (as {arg!r} too).')
            entries[target] = _check_entry(where, arg, entry, sides,
                                           connectors)
        missing = [name for name in required if name not in entries]
        if missing:
            raise ValueError(
                f'{where}: required argument(s) {missing} of forward() are '
                f'not mapped; mapped: {sorted(entries)}. Add e.g. '
                f"{missing[0]}=dict(recorder=..., from_student=...).")
        out[loss_name] = entries
    return out


def _check_entry(where: str, arg: str, entry: Any, sides: Dict,
                 connectors: Sequence[str]) -> Dict:
    if not isinstance(entry, Mapping):
        raise TypeError(f'{where}, argument {arg!r}: the entry must be a '
                        f'dict with keys {list(MAPPING_KEYS)}, got {entry!r}.')
    extra = [k for k in entry if k not in MAPPING_KEYS]
    if extra:
        raise ValueError(f'{where}, argument {arg!r}: unknown key(s) '
                         f'{extra}; accepted: {list(MAPPING_KEYS)}.')
    for key in ('recorder', 'from_student'):
        if key not in entry:
            raise ValueError(f'{where}, argument {arg!r}: the entry needs '
                             f'{key!r} (got {dict(entry)}).')
    from_student = entry['from_student']
    if not isinstance(from_student, bool):
        raise TypeError(f'{where}, argument {arg!r}: from_student must be '
                        f'True or False, got {from_student!r}.')
    side, names = sides[from_student]
    recorder = entry['recorder']
    if recorder not in names:
        other, other_names = sides[not from_student]
        hint = (f' {other}_recorders has {recorder!r}: set '
                f'from_student={not from_student}?'
                if recorder in other_names else _close(recorder, names))
        raise ValueError(
            f'{where}, argument {arg!r}: recorder {recorder!r} is not in '
            f'{side}_recorders (from_student={from_student}); available: '
            f'{sorted(names)}.{hint}')
    connector = entry.get('connector')
    if connector is not None and connector not in connectors:
        raise ValueError(
            f'{where}, argument {arg!r}: connector {connector!r} is not in '
            f'connectors; available: {sorted(connectors)}.'
            f'{_close(connector, connectors)}')
    full = {key: entry.get(key) for key in MAPPING_KEYS}
    full['record_idx'] = entry.get('record_idx', 0)
    return full


def describe_shape(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        return [describe_shape(v) for v in value]
    return type(value).__name__


def _pairs(s: Any, t: Any) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    if isinstance(s, torch.Tensor) and isinstance(t, torch.Tensor):
        return [(s, t)]
    if (isinstance(s, (list, tuple)) and isinstance(t, (list, tuple))
            and len(s) == len(t)):
        return [p for a, b in zip(s, t) for p in _pairs(a, b)]
    return []


def _squeezed(shape: torch.Size) -> torch.Size:
    """``shape`` without its trailing size-1 dims (the batch dim kept)."""
    dims = list(shape)
    while len(dims) > 1 and dims[-1] == 1:
        dims.pop()
    return torch.Size(dims)


def align_pairs(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """Reshape the tensor pairs of :data:`SHAPE_PAIRS` whose shapes differ
    only by trailing size-1 dims, e.g. a pooled ``(N, C, 1, 1)`` record
    and a flattened ``(N, C)`` one, to the shape with fewer dims.

    The original MMRazor's BYOT config pairs such records; there the loss
    broadcast them into an ``(N, C, N, C)`` difference. Any other pair is
    left as it is.

    Args:
        kwargs (dict): The forward arguments of one loss.

    Returns:
        dict: The arguments, aligned (a new dict).
    """
    kwargs = dict(kwargs)
    for s_arg, t_arg in SHAPE_PAIRS:
        s, t = kwargs.get(s_arg), kwargs.get(t_arg)
        if not (isinstance(s, torch.Tensor) and isinstance(t, torch.Tensor)):
            continue
        if s.shape == t.shape or _squeezed(s.shape) != _squeezed(t.shape):
            continue
        if s.dim() > t.dim():
            kwargs[s_arg] = s.reshape(t.shape)
        else:
            kwargs[t_arg] = t.reshape(s.shape)
    return kwargs


def check_pair_shapes(loss_name: str, loss: nn.Module, kwargs: Dict[str, Any],
                      sources: Dict[str, str]) -> None:
    """Check the student/teacher pairs of one loss fit.

    A loss may define ``check_shapes(**kwargs)`` raising ``ValueError``;
    otherwise the pairs of :data:`SHAPE_PAIRS` must have equal shapes, or
    equal dims as :data:`RELAXED_SHAPE_RULES` says.

    Args:
        loss_name (str): The loss's name in ``distill_losses``.
        loss (nn.Module): The loss.
        kwargs (dict): The recorded (and connected) forward arguments.
        sources (dict): ``{argument: 'student recorder ...'}`` for messages.
    """
    where = f'loss {loss_name!r} ({type(loss).__name__})'
    custom = getattr(loss, 'check_shapes', None)
    if callable(custom):
        try:
            custom(**kwargs)
        except ValueError as e:
            shapes = {k: describe_shape(v) for k, v in kwargs.items()}
            raise ValueError(f'{where}: the recorded features do not fit: '
                             f'{e} (shapes: {shapes}).') from e
        return
    dims, rule = RELAXED_SHAPE_RULES.get(type(loss), (None, 'equal shapes'))
    for s_arg, t_arg in SHAPE_PAIRS:
        if s_arg not in kwargs or t_arg not in kwargs:
            continue
        for s, t in _pairs(kwargs[s_arg], kwargs[t_arg]):
            ok = s.shape == t.shape
            if dims is not None:
                ok = (s.dim() == t.dim() and s.dim() > max(dims)
                      and all(s.shape[d] == t.shape[d] for d in dims))
            if not ok:
                raise ValueError(
                    f'{where}: {s_arg} ({sources[s_arg]}) has shape '
                    f'{tuple(s.shape)} but {t_arg} ({sources[t_arg]}) has '
                    f'shape {tuple(t.shape)}; {type(loss).__name__} needs '
                    f'{rule}. Record matching features, or map one side '
                    f'through a connector that aligns them.')


def _first_nonfinite(value: Any) -> Any:
    """The first tensor of ``value`` (nested lists, tuples, dicts) holding
    NaN or inf, or None."""
    if isinstance(value, torch.Tensor):
        return value if value.is_floating_point() and not bool(
            torch.isfinite(value).all()) else None
    items = value.values() if isinstance(value, dict) else value \
        if isinstance(value, (list, tuple)) else ()
    for item in items:
        bad = _first_nonfinite(item)
        if bad is not None:
            return bad
    return None


def check_finite(value: Any, what: str, hint: str) -> None:
    """Raise if a tensor of ``value`` holds NaN or inf.

    Args:
        value: A tensor or nested lists, tuples, dicts of them.
        what (str): What it is, e.g. ``"the teacher's output"``.
        hint (str): What to check, appended to the message.

    Raises:
        ValueError: Naming ``what``, the shape and the count of bad values.
    """
    bad = _first_nonfinite(value)
    if bad is not None:
        count = int((~torch.isfinite(bad)).sum())
        raise ValueError(
            f'{what} holds {count} NaN or infinite values (a tensor of '
            f'shape {tuple(bad.shape)}) in the dry run on a random batch. '
            f'{hint}')
