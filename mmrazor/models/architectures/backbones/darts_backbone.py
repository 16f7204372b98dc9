# Copyright (c) OpenMMLab. All rights reserved.
"""The DARTS cell-based search space (CIFAR)."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmrazor.registry import MODELS, in_mmrazor_scope


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 stride-2 convs on offset grids, concatenated, BN."""

    def __init__(self, in_channels: int, out_channels: int,
                 norm_cfg: Dict) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels // 2, 1, stride=2, bias=False)
        self.conv2 = nn.Conv2d(
            in_channels, out_channels // 2, 1, stride=2, bias=False)
        self.bn = build_norm_layer(norm_cfg, out_channels)[1]

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(x)
        return self.bn(
            torch.cat([self.conv1(x), self.conv2(x[:, :, 1:, 1:])], dim=1))


class StandardConv(nn.Module):
    """ReLU, 1x1 conv, BN: the preprocessing of a cell input."""

    def __init__(self, in_channels: int, out_channels: int,
                 norm_cfg: Dict) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ReLU(), nn.Conv2d(in_channels, out_channels, 1, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Node(nn.Module):
    """One intermediate node: a route over the edges from earlier nodes."""

    def __init__(self, route: nn.Module) -> None:
        super().__init__()
        self.route = route

    def forward(self, inputs: List[Tensor]) -> Tensor:
        return self.route(inputs)


class Cell(nn.Module):
    """A normal or reduction cell: two preprocessed inputs, ``num_nodes``
    nodes, output the concatenation of the nodes."""

    def __init__(self, nodes: nn.ModuleList, preproc0: nn.Module,
                 preproc1: nn.Module, reduction: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preproc0 = preproc0
        self.preproc1 = preproc1
        self.nodes = nodes

    def forward(self, s0: Tensor, s1: Tensor) -> Tensor:
        states = [self.preproc0(s0), self.preproc1(s1)]
        for node in self.nodes:
            states.append(node(states))
        return torch.cat(states[2:], dim=1)


class AuxiliaryModule(nn.Module):
    """The auxiliary tower at 2/3 depth (8x8 input to 1x1 output)."""

    def __init__(self, in_channels: int, base_channels: int,
                 out_channels: int, norm_cfg: Dict) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ReLU(), nn.AvgPool2d(5, stride=2, count_include_pad=False),
            nn.Conv2d(in_channels, base_channels, 1, bias=False),
            build_norm_layer(norm_cfg, base_channels)[1], nn.ReLU(),
            nn.Conv2d(base_channels, out_channels, 2, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1], nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


@MODELS.register_module()
class DartsBackbone(BaseModule):
    """The DARTS network: a stem, then ``num_layers`` cells, reduction cells
    at 1/3 and 2/3 of the depth.

    Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019
    (https://arxiv.org/abs/1806.09055).

    Node ``k`` (from 2) of a cell takes an edge from each earlier state
    (the two cell inputs and nodes 2..k-1). Every edge is built from
    ``mutable_cfg`` with the alias ``{normal|reduce}_n{k}_p{j}`` (``j``:
    the input), every node's route from ``route_cfg`` with the alias
    ``{normal|reduce}_n{k}``: all cells of one type share their choices (and
    architecture parameters), as in the paper and the original's subnet
    files. In a reduction cell, edges from the two inputs have stride 2.
    Module names follow the original MMRazor's (its checkpoints load),
    including its spelling ``auxliary``.

    Args:
        in_channels (int): Image channels.
        base_channels (int): Channels of a node in the first cells (``C``).
        mutable_cfg (dict): Config of an edge mutable (e.g.
            ``DiffMutableOP``); ``module_kwargs`` and ``alias`` are set here.
        route_cfg (dict): Config of a node route (e.g. ``DiffChoiceRoute``);
            ``edges`` and ``alias`` are set here.
        num_layers (int): Number of cells. Defaults to 8.
        num_nodes (int): Intermediate nodes per cell. Defaults to 4.
        stem_multiplier (int): Stem width is ``stem_multiplier * C``.
            Defaults to 3.
        out_indices (sequence[int]): Cells whose outputs are returned; the
            last must be the last cell. Defaults to (7, ).
        auxiliary (bool): Whether to build the auxiliary tower after the
            cell at ``2 * num_layers // 3``; in training its output comes
            first in the returned tuple. Defaults to False.
        aux_channels (int, optional): Middle channels of the tower.
        aux_out_channels (int, optional): Output channels of the tower.
        act_cfg (dict): Kept for the original configs; ReLU is used.
        norm_cfg (dict): Norm config of the stem, preprocessing and tower.
            Defaults to ``dict(type='BN')``.
        auxliary (bool, optional): The original's spelling of
            ``auxiliary``; give one of the two.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 base_channels: int,
                 mutable_cfg: Dict,
                 route_cfg: Dict,
                 num_layers: int = 8,
                 num_nodes: int = 4,
                 stem_multiplier: int = 3,
                 out_indices: Sequence[int] = (7, ),
                 auxiliary: bool = False,
                 aux_channels: Optional[int] = None,
                 aux_out_channels: Optional[int] = None,
                 act_cfg: Dict = dict(type='ReLU'),
                 norm_cfg: Dict = dict(type='BN'),
                 auxliary: Optional[bool] = None,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if auxliary is not None:
            auxiliary = auxiliary or auxliary
        self._check_args(num_layers, num_nodes, out_indices, auxiliary,
                         aux_channels, aux_out_channels, act_cfg)
        self.num_layers = num_layers
        self.num_nodes = num_nodes
        self.out_indices = tuple(out_indices)
        self.auxliary_indice = 2 * num_layers // 3 if auxiliary else -1
        stem_channels = stem_multiplier * base_channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, 3, 1, 1, bias=False),
            build_norm_layer(norm_cfg, stem_channels)[1])

        prev_prev, prev, channels = stem_channels, stem_channels, base_channels
        self.cells = nn.ModuleList()
        reduction = False
        for i in range(num_layers):
            prev_reduction = reduction
            reduction = i in (num_layers // 3, 2 * num_layers // 3)
            if reduction:
                channels *= 2
            preproc0 = FactorizedReduce(prev_prev, channels, norm_cfg) \
                if prev_reduction else StandardConv(prev_prev, channels,
                                                    norm_cfg)
            preproc1 = StandardConv(prev, channels, norm_cfg)
            nodes = self._make_nodes(channels, reduction, mutable_cfg,
                                     route_cfg)
            self.cells.append(Cell(nodes, preproc0, preproc1, reduction))
            prev_prev, prev = prev, channels * num_nodes
            if i == self.auxliary_indice:
                self.auxliary_module = AuxiliaryModule(
                    prev, aux_channels, aux_out_channels, norm_cfg)
        self.out_channels = prev

    @staticmethod
    def _check_args(num_layers: int, num_nodes: int, out_indices: Sequence,
                    auxiliary: bool, aux_channels: Optional[int],
                    aux_out_channels: Optional[int], act_cfg: Dict) -> None:
        if num_layers < 1 or num_nodes < 1:
            raise ValueError('DartsBackbone: `num_layers` and `num_nodes` '
                             f'must be >= 1, but got {num_layers} and '
                             f'{num_nodes}')
        if not out_indices or out_indices[-1] != num_layers - 1 or any(
                not 0 <= i < num_layers for i in out_indices):
            raise ValueError(
                f'DartsBackbone: `out_indices` must be cell indices in [0, '
                f'{num_layers - 1}] ending with the last cell '
                f'({num_layers - 1}), but got {tuple(out_indices)}')
        if auxiliary and (aux_channels is None or aux_out_channels is None):
            raise ValueError('DartsBackbone: with the auxiliary tower, give '
                             '`aux_channels` and `aux_out_channels` (the '
                             'CIFAR configs use 128 and 768)')
        if act_cfg.get('type') != 'ReLU':
            raise ValueError('DartsBackbone: only act_cfg=dict(type=\'ReLU\') '
                             f'is supported, but got {act_cfg!r}')

    def _make_nodes(self, channels: int, reduction: bool, mutable_cfg: Dict,
                    route_cfg: Dict) -> nn.ModuleList:
        """Nodes 2..num_nodes+1 of a cell, with their aliased mutables."""
        kind = 'reduce' if reduction else 'normal'
        nodes = nn.ModuleList()
        for depth in range(2, self.num_nodes + 2):
            node_id = f'{kind}_n{depth}'
            edges = nn.ModuleDict()
            for j in range(depth):
                cfg = copy.deepcopy(dict(mutable_cfg))
                cfg['module_kwargs'] = dict(
                    in_channels=channels,
                    out_channels=channels,
                    stride=2 if reduction and j < 2 else 1)
                cfg['alias'] = f'{node_id}_p{j}'
                edges[f'{node_id}_p{j}'] = MODELS.build(in_mmrazor_scope(cfg))
            cfg = copy.deepcopy(dict(route_cfg))
            cfg.update(edges=edges, alias=node_id)
            nodes.append(Node(MODELS.build(in_mmrazor_scope(cfg))))
        return nodes

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """The outputs of the cells in ``out_indices``; in training with the
        auxiliary tower, its output first."""
        outs = []
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1)
            if i in self.out_indices:
                outs.append(s1)
            if i == self.auxliary_indice and self.training:
                outs.insert(0, self.auxliary_module(s1))
        return tuple(outs)
