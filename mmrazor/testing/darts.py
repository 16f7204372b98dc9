# Copyright (c) OpenMMLab. All rights reserved.
"""Tiny DARTS search spaces for tests, benchmarks and the digits demo."""
from typing import Dict, Optional, Sequence

#: The eight ops of the DARTS CIFAR space, as the original's configs name
#: them.
DARTS_OPS = ('zero', 'skip_connect', 'max_pool_3x3', 'avg_pool_3x3',
             'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5')


def darts_candidates(names: Sequence[str] = DARTS_OPS,
                     use_drop_path: bool = False,
                     norm_cfg: Optional[Dict] = None) -> Dict[str, Dict]:
    """Candidate op configs of the DARTS space (a subset by ``names``).

    Args:
        names (sequence[str]): Which ops. Defaults to all eight.
        use_drop_path (bool): Drop path in the ops. Defaults to False.
        norm_cfg (dict, optional): Norm config of the ops. Defaults to None:
            the ops' default (affine BN).

    Returns:
        dict: ``{name: op config}``.
    """
    extra = dict(use_drop_path=use_drop_path)
    if norm_cfg is not None:
        extra['norm_cfg'] = norm_cfg
    table = dict(
        zero=dict(type='mmrazor.DartsZero'),
        skip_connect=dict(type='mmrazor.DartsSkipConnect', **extra),
        max_pool_3x3=dict(type='mmrazor.DartsPoolBN', pool_type='max',
                          **extra),
        avg_pool_3x3=dict(type='mmrazor.DartsPoolBN', pool_type='avg',
                          **extra),
        sep_conv_3x3=dict(type='mmrazor.DartsSepConv', kernel_size=3,
                          **extra),
        sep_conv_5x5=dict(type='mmrazor.DartsSepConv', kernel_size=5,
                          **extra),
        dil_conv_3x3=dict(type='mmrazor.DartsDilConv', kernel_size=3,
                          **extra),
        dil_conv_5x5=dict(type='mmrazor.DartsDilConv', kernel_size=5,
                          **extra))
    unknown = sorted(set(names) - set(table))
    if unknown:
        raise KeyError(f'darts_candidates: unknown ops {unknown}; the DARTS '
                       f'ops are {list(DARTS_OPS)}')
    return {name: table[name] for name in names}


def tiny_darts_classifier(base_channels: int = 4,
                          num_layers: int = 3,
                          num_nodes: int = 2,
                          num_classes: int = 4,
                          in_channels: int = 3,
                          ops: Sequence[str] = DARTS_OPS,
                          mutable_type: str = 'mmrazor.DiffMutableOP',
                          route_cfg: Optional[Dict] = None,
                          norm_cfg: Optional[Dict] = None,
                          op_norm_cfg: Optional[Dict] = None) -> Dict:
    """Config of an mmcls ``ImageClassifier`` on a small ``DartsBackbone``.

    Args:
        base_channels (int): ``C``. Defaults to 4.
        num_layers (int): Cells (3: normal, reduce, reduce). Defaults to 3.
        num_nodes (int): Nodes per cell. Defaults to 2.
        num_classes (int): Classes. Defaults to 4.
        in_channels (int): Image channels. Defaults to 3.
        ops (sequence[str]): Candidate ops. Defaults to all eight.
        mutable_type (str): Edge mutable type. Defaults to
            ``'mmrazor.DiffMutableOP'``.
        route_cfg (dict, optional): Route config. Defaults to a
            ``DiffChoiceRoute`` with its own parameter.
        norm_cfg (dict, optional): Backbone norm config. Defaults to
            non-affine BN, as in the search.
        op_norm_cfg (dict, optional): Norm config of the ops. Defaults to
            None (affine BN).

    Returns:
        dict: The classifier config (mmcls types, scoped).
    """
    backbone = dict(
        type='mmrazor.DartsBackbone',
        in_channels=in_channels,
        base_channels=base_channels,
        num_layers=num_layers,
        num_nodes=num_nodes,
        stem_multiplier=3,
        out_indices=(num_layers - 1, ),
        mutable_cfg=dict(
            type=mutable_type,
            candidates=darts_candidates(ops, norm_cfg=op_norm_cfg)),
        route_cfg=route_cfg or dict(
            type='mmrazor.DiffChoiceRoute', with_arch_param=True),
        norm_cfg=norm_cfg or dict(type='BN', affine=False))
    channels = base_channels * num_nodes
    for i in range(num_layers):
        if i in (num_layers // 3, 2 * num_layers // 3):
            channels *= 2
    return dict(
        type='mmcls.ImageClassifier',
        backbone=backbone,
        neck=dict(type='mmcls.GlobalAveragePooling'),
        head=dict(
            type='mmcls.LinearClsHead',
            num_classes=num_classes,
            in_channels=channels,
            loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0)))
