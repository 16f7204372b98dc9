# Copyright (c) OpenMMLab. All rights reserved.
"""GatherTensors on 2 CPU processes (gloo): values and gradients."""
import os

import pytest
import torch
import torch.distributed as dist

from mmrazor.models.architectures.ops import GatherTensors
from mmrazor.testing.dist import run_processes

from ...test_tools.conftest import free_port


def _worker(rank, world, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world)
    try:
        x = torch.full((2, 3), float(rank + 1), requires_grad=True)
        parts = GatherTensors.apply(x)
        # rank q weighs the part of rank r by (q + 1) * (r + 1)
        loss = sum((rank + 1) * (r + 1) * p.sum() for r, p in enumerate(parts))
        loss.backward()
        torch.save(dict(parts=[p.detach() for p in parts], grad=x.grad),
                   os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason='no torch.distributed')
def test_values_and_gradients_on_two_processes(tmp_path):
    run_processes(_worker, 2, (2, free_port(), str(tmp_path)))
    for rank in (0, 1):
        out = torch.load(tmp_path / f'rank{rank}.pth', weights_only=True)
        for r, part in enumerate(out['parts']):
            assert torch.equal(part, torch.full((2, 3), float(r + 1)))
        # d(sum over ranks q of the losses)/dx_r = (1 + 2) * (r + 1)
        assert torch.equal(out['grad'], torch.full((2, 3), 3.0 * (rank + 1)))
