# Copyright (c) OpenMMLab. All rights reserved.
"""The distiller's build-time dry run refuses NaN or inf features."""
import pytest
import torch

from ..test_algorithms.test_distill.test_distill_algorithms import (
    classifier,
    kd,
)


def poisoned_teacher(layer='backbone.conv1.weight', value=float('nan')):
    from mmrazor.registry import MODELS
    teacher = MODELS.build(classifier(16))
    with torch.no_grad():
        dict(teacher.named_parameters())[layer].fill_(value)
    return teacher


@pytest.mark.parametrize('value', [float('nan'), float('inf')])
def test_nan_teacher_fails_the_dry_run(value):
    with pytest.raises(ValueError) as error:
        kd(teacher=poisoned_teacher(value=value))
    message = str(error.value)
    assert "the teacher's output holds" in message
    assert 'NaN or infinite values' in message
    assert 'teacher_ckpt' in message


def test_nan_head_fails_the_dry_run():
    """Only the last layer's weights are NaN."""
    with pytest.raises(ValueError, match="teacher's output"):
        kd(teacher=poisoned_teacher('head.fc.weight'))


def test_finite_models_pass_and_no_dry_run_skips_the_check():
    kd()  # random weights: finite
    kd(teacher=poisoned_teacher(), demo_input_shape=None)
