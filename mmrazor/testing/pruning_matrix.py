# Copyright (c) OpenMMLab. All rights reserved.
"""The pruning coverage matrix: mmcls classifiers pruned end to end.

Every case of :data:`CASES` is a small mmcls model (random weights, small
inputs) that :func:`prune_case` takes through the whole pruning path:

1. give every norm layer random affine weights and every batch norm random
   running statistics, so that a wrong channel anywhere changes the output;
2. :class:`~mmrazor.models.ChannelAnalyzer` finds the channel units;
3. a :class:`~mmrazor.models.ChannelMutator` with
   ``L1MutableChannelUnit`` (``choice_mode='ratio'``) turns the layers of
   those units into dynamic ops (a unit whose layers have no dynamic op is
   dropped and reported), and every unit is set to ``ratio`` (0.5);
4. :func:`~mmrazor.models.utils.export_static_model` exports the plain
   ``torch.nn`` model;
5. checks: the static model gives the dynamic model's output (``parity``,
   eval mode, a fixed random input); where no norm mixes channels
   (LayerNorm, GroupNorm) it also gives the output of the original model
   whose dropped channels were zeroed (``reference``: the right channels
   went); no dynamic op or mutable is left; the
   :class:`~mmrazor.models.task_modules.ResourceEstimator` parameters and
   FLOPs drop.

The test ``tests/test_models/test_pruning_coverage.py`` and the table of
``docs/en/user_guides/pruning_coverage.md`` (printed by
``tools/pruning/coverage_table.py``) both come from here.

Examples:
    >>> record = prune_case(CASE_BY_NAME['resnet18'])
    >>> record['prunable_units'], record['parity_ok']
    (12, True)
    >>> print(coverage_table([record]).splitlines()[2])
    | ResNet-18 | 32 | 12 | 2 | 11.18 -> 2.80 (0.25x) | ...
"""
import copy
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn

#: Channel widths of the small ConvNeXt arch (4 stages of 1, 1, 2, 1 blocks).
SMALL_CONVNEXT = dict(depths=[1, 1, 2, 1], channels=[16, 32, 64, 128])
#: ``max|static - dynamic| <= PARITY_TOL * max(1, max|dynamic|)``.
PARITY_TOL = 1e-5


@dataclass(frozen=True)
class PruningCase:
    """One model of the matrix.

    Args:
        name (str): Short id (test ids, ``--models``).
        title (str): The name shown in the table.
        build (Callable[[], nn.Module]): Builds the model (random weights).
        input_size (int): Height and width of the input.
        note (str): What the case is built from, for the docs.
    """
    name: str
    title: str
    build: Callable[[], nn.Module]
    input_size: int
    note: str = ''


def _classifier(backbone: dict,
                channels: int,
                neck: bool = True,
                head: str = 'LinearClsHead') -> nn.Module:
    from mmcls.registry import MODELS
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=backbone,
            neck=dict(type='GlobalAveragePooling') if neck else None,
            head=dict(type=head, num_classes=10, in_channels=channels)))


def _vgg11() -> nn.Module:
    """mmcls VGG-11 with its own classifier, resized to 64x64 inputs
    (2x2x512 features after flattening) and 10 classes."""
    from mmcls.registry import MODELS
    model = MODELS.build(dict(type='VGG', depth=11, num_classes=10))
    model.classifier[0] = nn.Linear(512 * 2 * 2, 256)
    model.classifier[3] = nn.Linear(256, 256)
    model.classifier[6] = nn.Linear(256, 10)
    return model


def _case(name: str, title: str, backbone: dict, channels: int,
          size: int = 32, **kwargs) -> PruningCase:
    note = ', '.join(f'{k}={v!r}' for k, v in backbone.items())
    return PruningCase(name, title,
                       lambda: _classifier(backbone, channels, **kwargs),
                       size, note)


_VIT = dict(type='VisionTransformer', arch='deit-tiny', img_size=32,
            patch_size=8)

#: The models of the matrix, in table order.
CASES = (
    _case('resnet18', 'ResNet-18', dict(type='ResNet', depth=18), 512),
    _case('resnet50', 'ResNet-50', dict(type='ResNet', depth=50), 2048),
    _case('resnext50_32x4d', 'ResNeXt-50 (32x4d)',
          dict(type='ResNeXt', depth=50, groups=32, width_per_group=4),
          2048),
    _case('mobilenet_v2', 'MobileNetV2', dict(type='MobileNetV2'), 1280),
    _case('mobilenet_v3_small', 'MobileNetV3-small',
          dict(type='MobileNetV3', arch='small'), 576),
    _case('mobilenet_v3_large', 'MobileNetV3-large',
          dict(type='MobileNetV3', arch='large'), 960),
    _case('shufflenet_v1', 'ShuffleNetV1', dict(type='ShuffleNetV1'), 960),
    _case('shufflenet_v2', 'ShuffleNetV2', dict(type='ShuffleNetV2'), 1024),
    _case('regnetx_400mf', 'RegNetX-400MF',
          dict(type='RegNet', arch='regnetx_400mf'), 384),
    _case('efficientnet_b0', 'EfficientNet-b0',
          dict(type='EfficientNet', arch='b0'), 1280),
    PruningCase('vgg11', 'VGG-11 (own classifier)', _vgg11, 64,
                "type='VGG', depth=11, num_classes=10, classifier "
                '2048-256-256-10'),
    _case('convnext_small_arch', 'ConvNeXt (small arch)',
          dict(type='ConvNeXt', arch=SMALL_CONVNEXT), 128, neck=False),
    _case('convnext_small_arch_no_ls', 'ConvNeXt (small arch, no layer '
          'scale)', dict(type='ConvNeXt', arch=SMALL_CONVNEXT,
                         layer_scale_init_value=0.), 128, neck=False),
    _case('convnext_tiny', 'ConvNeXt-T', dict(type='ConvNeXt', arch='tiny'),
          768, neck=False),
    _case('deit_tiny', 'ViT (DeiT-tiny, 32px, patch 8)', _VIT, 192,
          neck=False, head='VisionTransformerClsHead'),
)
CASE_BY_NAME: Dict[str, PruningCase] = {c.name: c for c in CASES}

# --------------------------------------------------------------------------
# Helpers of one case


def randomise_norms(model: nn.Module, seed: int = 1) -> None:
    """Random affine weights for every norm layer, and random running
    statistics for every batch norm (in place).

    Args:
        model (nn.Module): The model.
        seed (int): Seed of the values. Defaults to 1.
    """
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.LayerNorm,
                          nn.GroupNorm)) and m.weight is not None:
            m.weight.data = torch.rand(m.weight.shape, generator=gen) + 0.5
            m.bias.data = torch.rand(m.bias.shape, generator=gen) - 0.5
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean = torch.rand(m.num_features, generator=gen) - 0.5
            m.running_var = torch.rand(m.num_features, generator=gen) + 0.5


def logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The output tensor of ``model`` on ``x``: ``model(x, mode='tensor')``
    for an mmcls classifier, else the last output of ``model(x)``."""
    if hasattr(model, 'extract_feat'):
        return model(x, mode='tensor')
    out = model(x)
    return out[-1] if isinstance(out, (tuple, list)) else out


def _mixes_channels(model: nn.Module) -> bool:
    """Whether a norm computes statistics over channels."""
    return any(
        isinstance(m, (nn.LayerNorm, nn.GroupNorm)) for m in model.modules())


def zero_dropped(model: nn.Module, units: Sequence[nn.Module]) -> nn.Module:
    """A copy of the original ``model`` whose dropped channels are 0.

    Every layer writing a unit's channels gets its weight rows, bias and
    running mean zeroed at the channels the unit's mask drops, so they are
    0 wherever they flow (a batch norm with zero weight, bias and mean
    outputs 0, and the activations used keep 0 at 0).

    Args:
        model (nn.Module): The original (static) model.
        units (Sequence[MutableChannelUnit]): Units with a current mask.

    Returns:
        nn.Module: The zeroed copy.
    """
    zeroed = copy.deepcopy(model)
    for unit in units:
        drop = (~unit.current_mask).nonzero().flatten().tolist()
        for channel in unit.output_related:
            module = zeroed.get_submodule(channel.name)
            r = channel.expand_ratio
            idx = [i for c in drop for i in range(
                (channel.start + c) * r, (channel.start + c + 1) * r)]
            for attr in ('weight', 'bias', 'running_mean'):
                tensor = getattr(module, attr, None)
                if isinstance(tensor, torch.Tensor):
                    tensor.data[idx] = 0
    return zeroed


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    if a.shape != b.shape:
        return float('inf')
    return (a - b).abs().max().item()


def _count_left(model: nn.Module) -> int:
    from mmrazor.models.architectures.dynamic_ops import DynamicOpMixin
    from mmrazor.models.mutables import BaseMutable
    return sum(
        isinstance(m, (DynamicOpMixin, BaseMutable)) for m in model.modules())


def _generic(text: str) -> str:
    """``text`` with layer indices of module names replaced by ``*``."""
    return re.sub(r'\b\w+(?:\.\w+)+\b',
                  lambda m: re.sub(r'\.\d+(?=\.|\b)', '.*', m.group()), text)


def short_reason(reason: str) -> str:
    """The gist of one report reason, without layer indices.

    The explanation after the first ``': '`` or ``'; '`` goes, and so do
    a leading module name (``'layer: reason'``) and a ``(known: ...)``
    list.

    Examples:
        >>> short_reason('group conv (32 groups): pruning would break it')
        'group conv (32 groups)'
        >>> short_reason("combined channel by channel with parameter/buffer "
        ...              "'backbone.stages.2.1.gamma'")
        "combined channel by channel with parameter/buffer 'backbone.stages.*.*.gamma'"
    """  # noqa: E501
    reason = re.sub(r'^[\w.]+: ', '', reason)
    reason = re.sub(r' \(known: [^)]*\)', '', reason)
    return _generic(re.split(r'[:;] ', reason)[0])


def _dropped_reason(model: nn.Module, entry: Dict[str, Any]) -> str:
    """The reason a mutator dropped a unit, naming the layer's full type."""
    name = entry.get('module')
    if name and 'has no dynamic op' in entry['reason']:
        cls = type(model.get_submodule(name))
        return (f'{cls.__module__}.{cls.__qualname__} has no dynamic op '
                '(ChannelMutator)')
    return short_reason(entry['reason'])


# --------------------------------------------------------------------------
# One case, all cases, the table


def prune_case(case: PruningCase,
               ratio: float = 0.5,
               seed: int = 0) -> Dict[str, Any]:
    """Prune every prunable unit of ``case`` to ``ratio`` and check it.

    Args:
        case (PruningCase): The model.
        ratio (float): The choice of every unit. Defaults to 0.5.
        seed (int): Seed of the weights and of the input. Defaults to 0.

    Returns:
        dict: ``name``, ``title``, ``input_size``, ``analyzer_units`` (the
        analyzer's prunable units), ``prunable_units`` (those the mutator
        prunes), ``excluded_units`` (all the others), ``reasons``
        (``{short reason: number of excluded units}``), ``params`` and
        ``flops`` (``[before, after]``, M and MFLOPs per sample),
        ``parity`` (max abs difference static vs dynamic), ``parity_ok``,
        ``reference`` (max abs difference static vs zeroed original; None
        where a norm mixes channels), ``reference_ok`` (None likewise),
        ``left`` (dynamic ops and mutables left in the static model) and
        ``prunable`` (at least one unit).
    """
    from mmrazor.models import ChannelAnalyzer, ChannelMutator
    from mmrazor.models.task_modules import ResourceEstimator
    from mmrazor.models.utils import export_static_model

    torch.manual_seed(seed)
    model = case.build()
    model.eval()  # some mmcls backbones' train() returns None
    randomise_norms(model, seed + 1)
    original = copy.deepcopy(model)
    shape = (1, 3, case.input_size, case.input_size)
    x = torch.rand((2, ) + shape[1:],
                   generator=torch.Generator().manual_seed(seed + 2))
    estimator = ResourceEstimator(input_shape=shape)

    analyzer = ChannelAnalyzer(demo_input=shape)
    found = analyzer.analyze(model)
    reasons: Counter = Counter()
    for name in analyzer.excluded_units:
        for r in dict.fromkeys(
                short_reason(e['reason']) for e in analyzer.report
                if e['channels'] == name):
            reasons[r] += 1
    units: List[nn.Module] = []
    if found:
        mutator = ChannelMutator(
            channel_unit_cfg=dict(
                type='L1MutableChannelUnit',
                default_args=dict(choice_mode='ratio'),
                units=found),
            parse_cfg=dict(type='Config'))
        mutator.prepare_from_supernet(model)
        for entry in mutator.excluded:
            reasons[_dropped_reason(original, entry)] += 1
        mutator.set_choices({key: ratio for key in mutator.choices})
        units = list(mutator.units)
    static = export_static_model(model)

    with torch.no_grad():
        dynamic_out = logits(model, x)
        static_out = logits(static, x)
        reference = None
        if not _mixes_channels(original):
            reference = _max_diff(
                static_out, logits(zero_dropped(original, units), x))
    parity = _max_diff(static_out, dynamic_out)
    scale = max(1.0, dynamic_out.abs().max().item())
    before = estimator.estimate(original)
    after = estimator.estimate(static)
    return dict(
        name=case.name,
        title=case.title,
        input_size=case.input_size,
        analyzer_units=len(found),
        prunable_units=len(units),
        excluded_units=len(analyzer.excluded_units) + len(found) -
        len(units),
        reasons=dict(reasons.most_common()),
        params=[before['params'], after['params']],
        flops=[before['flops'], after['flops']],
        parity=parity,
        parity_ok=parity <= PARITY_TOL * scale,
        reference=reference,
        reference_ok=None if reference is None else
        reference <= PARITY_TOL * scale,
        left=_count_left(static),
        prunable=bool(units))


def run_matrix(names: Optional[Sequence[str]] = None,
               ratio: float = 0.5) -> List[Dict[str, Any]]:
    """:func:`prune_case` for the cases named (all by default).

    Args:
        names (Sequence[str], optional): Case names, in any order; None
            runs all of :data:`CASES`.
        ratio (float): The choice of every unit. Defaults to 0.5.

    Returns:
        list[dict]: One record per case, in the order of :data:`CASES`.
    """
    unknown = sorted(set(names or ()) - set(CASE_BY_NAME))
    if unknown:
        raise KeyError(f'unknown pruning cases {unknown}; known: '
                       f'{list(CASE_BY_NAME)}')
    return [
        prune_case(c, ratio) for c in CASES if names is None or c.name in
        names
    ]


def _before_after(values: Sequence[float]) -> str:
    before, after = values
    return f'{before:.2f} -> {after:.2f} ({after / before:.2f}x)'


def _check_cell(ok: Optional[bool], diff: Optional[float]) -> str:
    if ok is None:
        return 'n/a'
    return 'ok' if ok else f'FAIL ({diff:.1e})'


def coverage_table(records: Sequence[Dict[str, Any]]) -> str:
    """The markdown table of :func:`run_matrix` records.

    Columns: model, input size, prunable units (those the mutator prunes),
    excluded units, parameters and FLOPs before -> after (with the ratio),
    parity (static vs dynamic), reference (static vs the zeroed original)
    and the reasons for the exclusions (``reason xN``: number of units).

    Args:
        records (Sequence[dict]): Records of :func:`prune_case`.

    Returns:
        str: The table, one row per record.
    """
    lines = [
        '| model | input | prunable units | excluded | params (M) | '
        'FLOPs (M) | parity | reference | reasons for exclusions |',
        '|---|---|---|---|---|---|---|---|---|'
    ]
    for r in records:
        if r['prunable']:
            params = _before_after(r['params'])
            flops = _before_after(r['flops'])
        else:
            params = f"{r['params'][0]:.2f} (not pruned)"
            flops = f"{r['flops'][0]:.2f} (not pruned)"
        reasons = '; '.join(f'{k} x{n}' for k, n in r['reasons'].items())
        lines.append(
            f"| {r['title']} | {r['input_size']} | {r['prunable_units']} | "
            f"{r['excluded_units']} | {params} | {flops} | "
            f"{_check_cell(r['parity_ok'], r['parity'])} | "
            f"{_check_cell(r['reference_ok'], r['reference'])} | "
            f"{reasons.replace('|', '/')} |")
    return '\n'.join(lines)
