# Copyright (c) OpenMMLab. All rights reserved.
"""MetaShortcuts answer like torch's own meta kernels, only faster."""
import pytest
import torch

from mmrazor.models.task_modules.estimators.meta_shortcuts import (
    SHORTCUTS,
    UNARY,
    MetaShortcuts,
)

aten = torch.ops.aten
LAYOUTS = [torch.contiguous_format, torch.channels_last]
DTYPES = [torch.float32, torch.float16]


def _x(dtype, layout):
    return torch.empty(
        2, 16, 6, 6, device='meta',
        dtype=dtype).contiguous(memory_format=layout)


def _vec(n, dtype=torch.float32):
    return torch.empty(n, device='meta', dtype=dtype)


def _calls(dtype, layout):
    """``(op, args)`` for every shortcut, inputs in ``dtype``/``layout``."""
    x = _x(dtype, layout)
    extra = dict(
        hardtanh=(0.0, 6.0),
        leaky_relu=(0.1, ),
        _prelu_kernel=(_vec(1, dtype).view(1, 1, 1, 1), ))
    calls = []
    for name in UNARY:
        calls.append((getattr(aten, name).default, (x, *extra.get(name, ()))))
        inplace = getattr(aten, f'{name}_', None)
        if inplace is not None:
            calls.append((inplace.default, (x, *extra.get(name, ()))))
    w, stats = _vec(16, dtype), _vec(16, dtype)
    calls += [
        (aten.native_batch_norm.default,
         (x, w, w, stats, stats, False, 0.1, 1e-5)),
        (aten.native_batch_norm.default,
         (x, w, w, None, None, True, 0.1, 1e-5)),
        (aten._native_batch_norm_legit_no_training.default,
         (x, w, w, stats, stats, 0.1, 1e-5)),
        (aten.native_layer_norm.default, (x, [6], _vec(6, dtype),
                                          _vec(6, dtype), 1e-5)),
        (aten.native_group_norm.default, (x, w, w, 2, 16, 36, 4, 1e-5)),
    ]
    return calls


def _specs(out):
    outs = out if isinstance(out, tuple) else (out, )
    return [(tuple(t.shape), t.stride(), t.dtype, t.device.type)
            for t in outs]


@pytest.mark.parametrize('layout', LAYOUTS, ids=['contiguous', 'nhwc'])
@pytest.mark.parametrize('dtype', DTYPES, ids=['fp32', 'fp16'])
def test_shortcuts_match_meta_kernels(dtype, layout):
    calls = _calls(dtype, layout)
    assert {op for op, _ in calls} == set(SHORTCUTS)
    for op, args in calls:
        expected = op(*args)
        with MetaShortcuts():
            got = op(*args)
        assert _specs(got) == _specs(expected), op
        if op.name().endswith('_'):  # in-place: returns its input
            assert got is args[0]


def test_other_ops_and_devices_run_normally():
    x = torch.randn(3, 4)
    with MetaShortcuts():
        assert torch.equal(torch.relu(x), x.clamp(min=0))
        y = torch.empty(3, 4, device='meta') @ torch.empty(
            4, 5, device='meta')
    assert y.shape == (3, 5) and y.is_meta
