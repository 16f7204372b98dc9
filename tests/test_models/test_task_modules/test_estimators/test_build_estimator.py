# Copyright (c) OpenMMLab. All rights reserved.
"""The one default estimator config, and how partial configs merge in."""
from mmrazor.models.task_modules.estimators import (
    DEFAULT_ESTIMATOR_CFG,
    ResourceEstimator,
    build_estimator,
)


def test_default_and_merge_order():
    assert DEFAULT_ESTIMATOR_CFG == dict(type='mmrazor.ResourceEstimator')
    default = build_estimator()
    assert type(default) is ResourceEstimator
    assert default.input_shape == (1, 3, 224, 224)
    # the user's keys win over the caller's defaults, which win over the
    # default config
    built = build_estimator(dict(input_shape=(1, 3, 8, 8)),
                            input_shape=(1, 3, 16, 16),
                            units=dict(flops=None))
    assert built.input_shape == (1, 3, 8, 8)
    assert built.units['flops'] is None
    assert build_estimator(None, input_shape=(1, 3, 16, 16)).input_shape == \
        (1, 3, 16, 16)
