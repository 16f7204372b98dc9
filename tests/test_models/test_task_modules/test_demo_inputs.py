# Copyright (c) OpenMMLab. All rights reserved.
"""Demo inputs by code base (the original MMRazor's names)."""
import pytest
import torch

from mmrazor.models.task_modules.demo_inputs import (
    DefaultDemoInput,
    DefaultMMDetDemoInput,
    defaul_demo_inputs,
)
from mmrazor.registry import MODELS, TASK_UTILS

from ...conftest import classifier_cfg, spos_stage_mutable


@pytest.fixture(scope='module')
def classifier():
    stage = spos_stage_mutable()
    arch = [[16, 1, stage], [32, 1, stage], [64, 1, stage], [128, 1, stage]]
    model = MODELS.build(classifier_cfg(arch, 10, widen_factor=0.25))
    from mmrazor.models import NasMutator
    NasMutator().prepare_from_supernet(model)
    return model


def test_mmcls_batches_run_the_classifier(classifier):
    demo = TASK_UTILS.build(
        dict(type='mmrazor.DefaultDemoInput', scope='mmcls',
             input_shape=(2, 3, 32, 32), num_classes=10))
    data = demo.get_data(classifier)
    assert data['mode'] == 'tensor' and data['inputs'].shape == (2, 3, 32, 32)
    # the classifier's preprocessor normalised the uint8 images
    assert data['inputs'].dtype == torch.float32
    assert data['inputs'].abs().max() < 3
    assert classifier(**data).shape == (2, 10)
    losses = classifier(**demo(classifier, training=True))
    assert torch.isfinite(losses['loss'])


def test_plain_scope_and_errors():
    assert DefaultDemoInput(input_shape=(1, 3, 8, 8)).get_data(
        torch.nn.Identity()).shape == (1, 3, 8, 8)
    assert set(defaul_demo_inputs) >= {'mmcls', 'mmdet', 'mmseg'}
    with pytest.raises(ValueError, match="no demo input for scope 'mmfoo'"):
        DefaultDemoInput(scope='mmfoo')
    with pytest.raises(TypeError,
                       match=r"takes no options, got \['num_classes'\]"):
        DefaultDemoInput(num_classes=10)
    with pytest.raises(ValueError, match=r'4 positive ints'):
        DefaultDemoInput(input_shape=(3, 224, 224))
    with pytest.raises(ImportError, match='mmdet is not supported'):
        DefaultMMDetDemoInput().get_data(torch.nn.Identity())
