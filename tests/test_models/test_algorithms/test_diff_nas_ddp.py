# Copyright (c) OpenMMLab. All rights reserved.
"""Darts and DSNAS under mmengine's DDP wrapper: 2 CPU processes, gloo.

Both ranks start from different random weights (the wrapper broadcasts
rank 0's) and see different batches; after one step their parameters must
be equal, and Darts' must equal one process averaging the two ranks'
gradients by hand.
"""
import os

import pytest
import torch
import torch.distributed as dist
from mmcls.structures import ClsDataSample
from mmengine.model import MMSeparateDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.registry import MODEL_WRAPPERS, MODELS
from mmrazor.testing.darts import tiny_darts_classifier
from mmrazor.testing.dist import run_processes

from ...test_tools.conftest import free_port

OPS = ('skip_connect', 'avg_pool_3x3', 'sep_conv_3x3')


def _darts(seed, unroll):
    torch.manual_seed(seed)
    return MODELS.build(
        dict(type='mmrazor.Darts', unroll=unroll,
             architecture=tiny_darts_classifier(
                 base_channels=2, num_layers=2, num_nodes=2, ops=OPS)))


def _dsnas(seed):
    torch.manual_seed(seed)
    return MODELS.build(
        dict(type='mmrazor.DSNAS', pretrain_epochs=0, finetune_epochs=2,
             architecture=tiny_darts_classifier(
                 base_channels=2, num_layers=1, num_nodes=2, ops=OPS,
                 mutable_type='mmrazor.OneHotMutableOP',
                 route_cfg=dict(type='mmrazor.DiffChoiceRoute'))))


def _batch(seed, n=4):
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=torch.randint(0, 255, (n, 3, 8, 8), generator=g,
                             dtype=torch.uint8),
        data_samples=[
            ClsDataSample().set_gt_label(int(t))
            for t in torch.randint(0, 4, (n, ), generator=g)
        ])


def _optim(algo):
    return OptimWrapperDict(
        architecture=OptimWrapper(torch.optim.SGD(
            algo.architecture.parameters(), lr=0.1, momentum=0.9,
            weight_decay=3e-4)),
        mutator=OptimWrapper(torch.optim.SGD(algo.mutator.parameters(),
                                             lr=0.5)))


def _params(algo):
    return {k: v.detach().clone() for k, v in algo.named_parameters()}


def _unwrapped_params(wrapper):
    """Parameter names without the ``.module`` of the wrapped children."""
    return {
        k.replace('.module.', '.'): v.detach().clone()
        for k, v in wrapper.module.named_parameters()
    }


def _worker(rank, world, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world)
    try:
        results = {}
        for name, build in (('first', lambda s: _darts(s, False)),
                            ('second', lambda s: _darts(s, True))):
            algo = build(rank)  # different weights on each rank
            ddp = MODEL_WRAPPERS.build(
                dict(type='mmrazor.DartsDDP', module=algo,
                     broadcast_buffers=False, find_unused_parameters=False))
            optim = _optim(algo)
            logs = ddp.train_step(
                (_batch(10 + rank), _batch(20 + rank)), optim)
            results[name] = dict(params=_unwrapped_params(ddp),
                                 logs=sorted(logs),
                                 subnet=ddp.module.export_subnet())
        torch.manual_seed(rank)  # different one-hot samples per rank
        algo = _dsnas(rank)
        ddp = MODEL_WRAPPERS.build(
            dict(type='mmrazor.DSNASDDP', module=algo,
                 broadcast_buffers=False, find_unused_parameters=True))
        from mmengine.logging import MessageHub
        MessageHub.get_current_instance().update_info('epoch', 0)
        logs = ddp.train_step(_batch(30 + rank), _optim(algo))
        results['dsnas'] = dict(params=_unwrapped_params(ddp),
                                logs=sorted(logs),
                                subnet=ddp.module.export_subnet())
        torch.save(results, os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def _reference_first_order():
    """One process: rank 0's start, gradients of both ranks averaged."""
    algo = _darts(0, False)
    optim = _optim(algo)
    alphas = list(algo.mutator.parameters())
    weights = [p for p in algo.architecture.parameters()]
    grads = []
    for rank in (0, 1):
        data = algo.data_preprocessor(_batch(20 + rank), True)
        loss, _ = algo._loss(data)
        grads.append(torch.autograd.grad(loss, alphas))
    for alpha, g0, g1 in zip(alphas, *grads):
        alpha.grad = (g0 + g1) / 2
    optim['mutator'].step()
    grads = []
    for rank in (0, 1):
        data = algo.data_preprocessor(_batch(10 + rank), True)
        loss, _ = algo._loss(data)
        grads.append(torch.autograd.grad(loss, weights, allow_unused=True))
    for w, g0, g1 in zip(weights, *grads):
        w.grad = None if g0 is None else (g0 + g1) / 2
    optim['architecture'].step()
    return _params(algo)


def test_aliases_are_mmengine_wrappers():
    for name in ('mmrazor.DartsDDP', 'mmrazor.DSNASDDP'):
        assert MODEL_WRAPPERS.get(name) is MMSeparateDistributedDataParallel


@pytest.mark.skipif(not dist.is_available(), reason='no torch.distributed')
def test_one_step_on_two_processes(tmp_path):
    run_processes(_worker, 2, (2, free_port(), str(tmp_path)))
    ranks = []
    for rank in (0, 1):
        ranks.append(
            torch.load(tmp_path / f'rank{rank}.pth', weights_only=True))
    for name in ('first', 'second', 'dsnas'):
        r0, r1 = ranks[0][name], ranks[1][name]
        assert r0['params'].keys() == r1['params'].keys()
        for key in r0['params']:
            assert torch.allclose(r0['params'][key], r1['params'][key],
                                  rtol=0, atol=1e-6), (name, key)
        assert r0['subnet'] == r1['subnet']
    assert {'mutator.loss', 'supernet.loss'} <= set(ranks[0]['first']['logs'])
    assert 'mutator.credit' in ranks[0]['dsnas']['logs']
    ref = _reference_first_order()
    got = ranks[0]['first']['params']
    assert ref.keys() == got.keys()
    for key in ref:
        assert torch.allclose(got[key], ref[key], rtol=0, atol=1e-6), key
    # the step moved every architecture parameter
    start = _params(_darts(0, False))
    assert all(not torch.equal(got[k], start[k]) for k in start
               if k.startswith('mutator.'))
