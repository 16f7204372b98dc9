# Copyright (c) OpenMMLab. All rights reserved.
"""Input checks and reductions shared by the distillation losses.

Every check raises ``ValueError`` with a message that names the loss, the
field, the value received and what is accepted, so a wrong config fails when
the loss is built and a wrong mapping fails on the first step. Argument
checks are those of :mod:`mmrazor.utils.validators`; the loss weight adds a
warning for negative weights (:func:`check_loss_weight`).
"""
import warnings
from typing import Any, Iterable, Sequence, Union

import torch
from torch import Tensor

from mmrazor.utils.validators import check_choice, check_number

REDUCTIONS = ('none', 'batchmean', 'sum', 'mean')


def check_loss_weight(owner: str, value: Any,
                      field: str = 'loss_weight') -> float:
    """Raise unless ``value`` is a finite number; warn if it is negative.

    A negative weight makes training maximise the loss; it is allowed (some
    recipes mean it), with a warning.
    """
    check_number(owner, field, value)
    if value < 0:
        warnings.warn(
            f'{owner}: {field}={value!r} is negative, so training '
            'maximises this loss (moves the student away from its target). '
            'Use a positive weight unless that is intended.',
            UserWarning,
            stacklevel=3)
    return value


def check_same_shape(owner: str,
                     student: Tensor,
                     teacher: Tensor,
                     names: Sequence[str] = ('preds_S', 'preds_T'),
                     dims: Union[slice, None] = None) -> None:
    """Raise unless student and teacher have the same shape.

    Args:
        owner (str): Name of the loss, used in the message.
        student (Tensor): The student input.
        teacher (Tensor): The teacher input.
        names (Sequence[str]): Argument names of the two inputs.
        dims (slice, optional): Compare only these dimensions, e.g.
            ``slice(2, None)`` for the spatial size. Defaults to None (all).
    """
    s_shape, t_shape = tuple(student.shape), tuple(teacher.shape)
    same = (s_shape == t_shape if dims is None else
            len(s_shape) == len(t_shape) and s_shape[dims] == t_shape[dims])
    if not same:
        which = 'shapes' if dims is None else f'dims {dims.start}:{dims.stop}'
        raise ValueError(
            f'{owner}: {names[0]} and {names[1]} must have matching {which}, '
            f'got {names[0]} {s_shape} and {names[1]} {t_shape}. Add a '
            'connector that maps the student feature to the teacher shape.')


def check_ndim(owner: str, name: str, tensor: Tensor,
               ndims: Iterable[int]) -> None:
    """Raise unless ``tensor`` has one of the accepted numbers of dims."""
    ndims = tuple(ndims)
    if tensor.dim() not in ndims:
        raise ValueError(f'{owner}: {name} must have {ndims} dims, got shape '
                         f'{tuple(tensor.shape)}.')


def gt_labels_from(owner: str, data_samples: Any, num: int) -> Tensor:
    """Class indices (N,) from data samples or a label tensor.

    Accepts a tensor of indices (N,) or (N, 1), a tensor of (soft) scores
    (N, C) whose argmax is taken, or a list of data samples whose
    ``gt_label`` holds ``label`` (preferred) or ``score``.
    """
    if isinstance(data_samples, Tensor):
        labels = data_samples
        if labels.dim() == 2 and labels.size(1) > 1:
            labels = labels.argmax(dim=1)
    else:
        picked = []
        for sample in data_samples:
            gt = sample.gt_label
            if isinstance(gt, Tensor):
                soft = gt.is_floating_point() and gt.numel() > 1
                picked.append(gt.argmax().reshape(1) if soft else
                              gt.reshape(-1)[:1])
            elif 'label' in gt:
                picked.append(gt.label.reshape(-1)[:1])
            else:
                picked.append(gt.score.argmax().reshape(1))
        labels = torch.cat(picked) if picked else torch.empty(0)
    labels = labels.reshape(-1).long()
    if labels.numel() != num:
        raise ValueError(f'{owner}: data_samples must give one label per '
                         f'sample, got {labels.numel()} labels for a batch '
                         f'of {num}.')
    return labels


def reduce_loss(owner: str, loss: Tensor, reduction: str) -> Tensor:
    """Reduce a per-element loss of shape (N, ...).

    ``'batchmean'`` sums and divides by N, ``'mean'`` divides by the number
    of elements, ``'sum'`` sums, ``'none'`` returns ``loss`` unchanged.
    """
    check_choice(owner, 'reduction', reduction, REDUCTIONS)
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if reduction == 'mean':
        return loss.mean()
    return loss.sum() / loss.size(0)
