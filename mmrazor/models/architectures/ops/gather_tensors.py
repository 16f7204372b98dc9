# Copyright (c) OpenMMLab. All rights reserved.
"""All-gather with gradients, for losses over the global batch."""
from typing import Any, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_dist_info
from torch import Tensor


class GatherTensors(torch.autograd.Function):
    """``GatherTensors.apply(x)``: the ``x`` of every rank, as a tuple in
    rank order, with gradients flowing back to each rank's own ``x``.

    ``torch.distributed.all_gather`` alone cuts the graph. Here the backward
    pass sums, over ranks, the gradients every rank computed for each
    gathered tensor (an all-reduce) and returns this rank's share. Every
    rank must pass a tensor of the same shape. MMRazor 1.0's name and
    calling convention.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tuple[Tensor, ...]:
        rank, world_size = get_dist_info()
        parts = [torch.empty_like(x) for _ in range(world_size)]
        torch_dist.all_gather(parts, x.contiguous())
        ctx.rank = rank
        return tuple(parts)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Tensor:
        stacked = torch.stack([g.contiguous() for g in grads])
        torch_dist.all_reduce(stacked)
        return stacked[ctx.rank]
