# Copyright (c) OpenMMLab. All rights reserved.
"""A tiny network and its hand-written channel units, shared by tests."""
import torch
import torch.nn as nn


class TinyChannelNet(nn.Module):
    """conv-bn -> depthwise conv-bn -> 1x1 conv -> pool -> linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv3 = nn.Conv2d(8, 16, 1)
        self.fc = nn.Linear(16, 4)
        for bn in (self.bn1, self.bn2):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(self.conv1(x)).relu()
        x = self.bn2(self.conv2(x)).relu()
        return self.fc(self.conv3(x).mean((2, 3)))


def _channel(name: str, num: int, is_output: bool) -> dict:
    return dict(name=name, start=0, end=num, expand_ratio=1,
                is_output_channel=is_output)


def tiny_units() -> dict:
    """The two prunable units of :class:`TinyChannelNet`."""
    first = ['conv1', 'bn1', 'conv2', 'bn2']
    return {
        'conv1_(0, 8)_8': dict(
            init_args=dict(num_channels=8),
            channels=dict(
                output_related=[_channel(n, 8, True) for n in first],
                input_related=[
                    _channel(n, 8, False) for n in first[1:] + ['conv3']
                ])),
        'conv3_(0, 16)_16': dict(
            init_args=dict(num_channels=16),
            channels=dict(
                output_related=[_channel('conv3', 16, True)],
                input_related=[_channel('fc', 16, False)])),
    }
