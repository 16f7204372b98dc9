# Copyright (c) OpenMMLab. All rights reserved.
"""Toy callables that the recorder tests patch by import path."""
import torch
from torch import nn


def scale(x, factor=2.0):
    """A module-level function the toy model looks up here at call time."""
    return x * factor


class Toy:
    """A class whose methods the recorder tests patch."""

    def add(self, x, y=1):
        return x + y

    @staticmethod
    def double(x):
        return 2 * x


class Base:
    """A parent whose method ``Child`` only inherits."""

    def hello(self):
        return 'hello'


class Child(Base):
    pass


class ToyModel(nn.Module):
    """conv -> block(fc1 -> relu -> fc2) -> ``scale`` -> ``Toy.add``."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1)
        self.block = nn.Sequential(
            nn.Flatten(), nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3))
        self.toy = Toy()

    def forward(self, x):
        x = self.block(self.conv(x))
        return self.toy.add(scale(x), y=torch.ones(()))
