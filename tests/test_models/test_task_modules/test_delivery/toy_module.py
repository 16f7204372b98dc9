# Copyright (c) OpenMMLab. All rights reserved.
"""Toy callables that the delivery tests patch by import path."""
import torch


def augment(x):
    """A random augmentation: teacher and student must see the same one."""
    return x + torch.rand_like(x)


class Sampler:
    """A class with a random method."""

    def sample(self, n):
        return torch.rand(n)
