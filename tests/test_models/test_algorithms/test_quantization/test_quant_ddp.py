# Copyright (c) OpenMMLab. All rights reserved.
"""MMArchitectureQuant under mmengine's DDP wrapper: 2 CPU processes, gloo.

Each rank builds a two-conv quantized classifier from its own seed (the wrapper
broadcasts rank 0's weights and buffers), calibrates on its own batches
and shares rank 0's scales as ``PTQLoop`` does; then one QAT step on
different batches per rank must leave equal parameters on both ranks,
equal to one process averaging the two ranks' gradients by hand.
"""
import copy
import os

import pytest
import torch
import torch.distributed as dist
from mmcls.structures import ClsDataSample
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper

# skipped without torchao (imported quietly through mmrazor)
pytest.importorskip('mmrazor.models.fake_quants.learnable_fake_quantize')

from mmrazor.engine.runner.quantization_loops import (  # noqa: E402
    _broadcast_qparams,
    _set_observers,
)
from mmrazor.registry import MODEL_WRAPPERS, MODELS  # noqa: E402
from mmrazor.testing.dist import run_processes  # noqa: E402
from mmrazor.testing.quantization import tiny_quant_cfg  # noqa: E402

from ....test_tools.conftest import free_port  # noqa: E402

SIZE = 16


def _model(seed):
    torch.manual_seed(seed)
    return MODELS.build(tiny_quant_cfg(size=SIZE, architecture='convnet'))


def _batch(seed, n=4):
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=torch.randint(0, 255, (n, 3, SIZE, SIZE), generator=g,
                             dtype=torch.uint8),
        data_samples=[
            ClsDataSample().set_gt_label(int(t))
            for t in torch.randint(0, 10, (n, ), generator=g)
        ])


def _calibrate(model, seed):
    model.eval()
    _set_observers(model, True)
    model.calibrate_step(_batch(seed, 8))
    _set_observers(model, False)


def _scales(model):
    return [m.scale.detach().clone() for m in model.quant_modules()]


def _params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def _worker(rank, world, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world)
    try:
        model = _model(rank)  # different weights on each rank
        ddp = MODEL_WRAPPERS.build(
            dict(type='mmrazor.MMArchitectureQuantDDP', module=model,
                 broadcast_buffers=False, find_unused_parameters=False))
        start = _params(model)
        _calibrate(model, 10 + rank)  # different batches on each rank
        own_scales = _scales(model)
        _broadcast_qparams(model)
        model.train()
        optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        logs = ddp.train_step(_batch(20 + rank), optim)
        torch.save(
            dict(start=start, own_scales=own_scales, scales=_scales(model),
                 params=_params(model), logs=sorted(logs)),
            os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def _reference(ranks):
    """One process: rank 0's start and scales, both ranks' gradients
    averaged, one SGD step."""
    model = _model(0)
    _calibrate(model, 10)
    model.train()
    state = copy.deepcopy(model.state_dict())
    grads = []
    for rank in (0, 1):
        model.load_state_dict(state)  # same BN statistics for both
        data = model.data_preprocessor(_batch(20 + rank), True)
        loss = model(**data, mode='loss')['loss']
        grads.append(torch.autograd.grad(loss, list(model.parameters())))
    with torch.no_grad():
        for p, g0, g1 in zip(model.parameters(), *grads):
            p -= 0.1 * (g0 + g1) / 2
    return _params(model)


def test_alias_is_mmengine_wrapper():
    assert MODEL_WRAPPERS.get('mmrazor.MMArchitectureQuantDDP') is \
        MMDistributedDataParallel


@pytest.mark.skipif(not dist.is_available(), reason='no torch.distributed')
def test_calibrate_and_qat_step_on_two_processes(tmp_path):
    # spawned, not forked: a fork after the compile tests that ran before
    # this one in the same process hung in CI
    run_processes(_worker, 2, (2, free_port(), str(tmp_path)))
    ranks = []
    for rank in (0, 1):
        ranks.append(
            torch.load(tmp_path / f'rank{rank}.pth', weights_only=True))
    r0, r1 = ranks
    # the wrapper started both ranks from rank 0's weights
    for key in r0['start']:
        assert torch.equal(r0['start'][key], r1['start'][key]), key
    # different calibration batches, then rank 0's scales everywhere
    assert any(not torch.equal(a, b)
               for a, b in zip(r0['own_scales'], r1['own_scales']))
    for a, b in zip(r0['scales'], r1['scales']):
        assert torch.equal(a, b)
    assert r0['logs'] == ['loss']
    ref = _reference(ranks)
    assert ref.keys() == r0['params'].keys()
    for key in ref:
        assert torch.allclose(r0['params'][key], r1['params'][key],
                              rtol=0, atol=1e-6), key
        assert torch.allclose(r0['params'][key], ref[key], rtol=0,
                              atol=1e-5), key
    assert any(not torch.equal(r0['params'][k], r0['start'][k])
               for k in ref)
