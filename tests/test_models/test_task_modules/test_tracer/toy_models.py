# Copyright (c) OpenMMLab. All rights reserved.
"""Tiny models, each exercising one kind of channel coupling."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin: int, cout: int, **kwargs) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False, **kwargs),
        nn.BatchNorm2d(cout), nn.ReLU())


class CatSplitChunk(nn.Module):
    """cat of two convs; chunk into halves that are added; a split with
    fixed sizes; cat again."""

    def __init__(self) -> None:
        super().__init__()
        self.a = conv_bn(3, 8)
        self.b = conv_bn(3, 8)
        self.c = conv_bn(16, 16)
        self.d = conv_bn(8, 4)
        self.g = conv_bn(3, 6)
        self.f = nn.Conv2d(8, 5, 1)

    def forward(self, x):
        y = self.c(torch.cat([self.a(x), self.b(x)], dim=1))
        p, q = y.chunk(2, dim=1)
        _, y2 = torch.split(self.g(x), [2, 4], dim=1)
        return self.f(torch.cat([self.d(p + q), y2], dim=1))


class SEGate(nn.Module):
    """x * sigmoid(fc2(relu(fc1(pool(x))))) with Linear layers."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(16, 4)
        self.fc2 = nn.Linear(4, 16)
        self.conv2 = nn.Conv2d(16, 8, 1)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        gate = F.adaptive_avg_pool2d(x, 1).flatten(1)
        gate = torch.sigmoid(self.fc2(F.relu(self.fc1(gate))))
        x = x * gate.view(x.size(0), -1, 1, 1)
        return self.conv2(x)


class FlattenLinear(nn.Module):
    """conv -> flatten(C x 4 x 4) -> Linear -> Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc1 = nn.Linear(8 * 16, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w)
    return torch.transpose(x, 1, 2).contiguous().view(b, -1, h, w)


class Shuffle(nn.Module):
    """conv -> channel shuffle -> conv, beside an unshuffled branch."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = conv_bn(3, 8)
        self.conv2 = conv_bn(8, 8)
        self.side = conv_bn(3, 6)
        self.head = nn.Conv2d(14, 4, 1)

    def forward(self, x):
        y = self.conv2(channel_shuffle(self.conv1(x), 2))
        return self.head(torch.cat([y, self.side(x)], dim=1))


class ChannelLast(nn.Module):
    """A ConvNeXt-like block: depthwise conv, permute to channel-last,
    LayerNorm, Linear MLP, permute back, residual."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 2, stride=2)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.norm = nn.LayerNorm(8)
        self.pw1 = nn.Linear(8, 32)
        self.pw2 = nn.Linear(32, 8)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.stem(x)
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.pw2(F.gelu(self.pw1(self.norm(y))))
        return self.head(x + y.permute(0, 3, 1, 2))


class Doubler(torch.autograd.Function):
    """A custom autograd Function that leaves torch through numpy."""

    @staticmethod
    def forward(ctx, x):
        return torch.from_numpy(x.detach().numpy() * 2)

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


class NumpyOp(nn.Module):
    """conv -> a numpy round trip -> conv, beside a clean branch."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = conv_bn(3, 8)
        self.conv2 = conv_bn(8, 8)
        self.conv3 = conv_bn(8, 8)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        return self.head(self.conv3(Doubler.apply(x)))


class UnknownOp(nn.Module):
    """pixel_shuffle moves channels into space: no rule follows it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.conv3 = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = F.pixel_shuffle(self.conv1(x), 2)
        return self.conv3(F.relu(self.conv2(x)))


class Failing(nn.Module):
    """A forward that raises."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        x = self.conv(x)
        raise RuntimeError('boom: this model cannot run')


class SharedConv(nn.Module):
    """One conv applied to two inputs, whose outputs are added: its input
    channels on both calls are one unit."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 1)
        self.b = nn.Conv2d(3, 8, 1)
        self.shared = nn.Conv2d(8, 6, 3, padding=1)
        self.head = nn.Conv2d(6, 2, 1)

    def forward(self, x):
        return self.head(self.shared(self.a(x)) + self.shared(self.b(x)))


class HeadsAttention(nn.Module):
    """Token tensors (B, N, C) with a multi-head self-attention and an MLP.
    """

    def __init__(self, dims: int = 16, heads: int = 2) -> None:
        super().__init__()
        self.embed = nn.Conv2d(3, dims, 4, stride=4)
        self.norm = nn.LayerNorm(dims)
        self.attn = nn.MultiheadAttention(dims, heads, batch_first=True)
        self.fc1 = nn.Linear(dims, 32)
        self.fc2 = nn.Linear(32, dims)
        self.head = nn.Linear(dims, 3)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        y = self.norm(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        x = x + self.fc2(F.gelu(self.fc1(x)))
        return self.head(x.mean(1))


class GroupNormNet(nn.Module):
    """GroupNorm with 4 groups and with 1 group."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.gn1 = nn.GroupNorm(4, 8)
        self.conv2 = nn.Conv2d(8, 8, 3)
        self.gn2 = nn.GroupNorm(1, 8)
        self.conv3 = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        x = self.gn1(self.conv1(x))
        return self.conv3(self.gn2(self.conv2(x)))


class MiscOps(nn.Module):
    """stack + sum, a channel reduction, channel padding, repeat, a full
    setitem and a product with a bare parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 1)
        self.b = nn.Conv2d(3, 8, 1)
        self.c = nn.Conv2d(8, 4, 1)
        self.d = nn.Conv2d(6, 6, 1)
        self.e = nn.Conv2d(6, 12, 1)
        self.f = nn.Conv2d(24, 8, 1)
        self.g = nn.Conv2d(8, 8, 1)
        self.proj = nn.Parameter(torch.randn(8, 8))
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        s = torch.stack([self.a(x), self.b(x)]).sum(0)
        s = s * s.amax(1, keepdim=True).sigmoid()
        d = self.d(F.pad(self.c(s), (0, 0, 0, 0, 1, 1)))
        f = self.f(self.e(d).repeat(1, 2, 1, 1))
        buf = torch.zeros_like(f)
        buf[:, :] = f
        t = self.g(buf).flatten(2).transpose(1, 2) @ self.proj
        return self.head(t.mean(1))
