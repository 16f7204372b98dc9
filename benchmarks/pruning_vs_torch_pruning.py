# Copyright (c) OpenMMLab. All rights reserved.
"""Channel pruning: mmrazor against Torch-Pruning, in one process.

Run from the repository root::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python \
        benchmarks/pruning_vs_torch_pruning.py --threads 2 \
        --json work_dirs/pruning_vs_tp.json
    # smoke run, tiny inputs (seconds)
    PYTHONPATH=. python benchmarks/pruning_vs_torch_pruning.py --quick

Part (a), analysis. For mmcls classifiers with random weights in eval mode
(ResNet-50, MobileNetV2 and a DeiT-tiny ViT, 1000 classes, input
``--input-size``, ViT patch ``--vit-patch``), it times, interleaved with the
order rotating every round:

- ``ours``: ``ChannelAnalyzer(demo_input=...).analyze(model)``, which
  returns the prunable channel units and lists the excluded ones;
- ``tp_build``: ``torch_pruning.DependencyGraph().build_dependency(model,
  example_inputs)``;
- ``tp_groups``: ``list(DG.get_all_groups(ignored_layers=[classifier fc],
  root_module_types=[nn.Conv2d, nn.Linear]))`` on a graph built once: what
  Torch-Pruning needs on top of the graph to list its coupled groups.

It reports the medians, the ratio ``ours / tp_build`` of the medians with a
bootstrap 95% interval (target <= 1: our analysis is no slower than
Torch-Pruning's dependency graph), and the number of coupled groups each
finds: our prunable units (+ excluded units) and Torch-Pruning's groups.

Part (b), pruning ResNet-50 to 50% of the channels of every prunable
group, classifier fc kept:

- ``ours``: ``ChannelMutator`` with ``L1MutableChannelUnit`` units
  (``choice_mode='ratio'``, analyzer on the same input), every unit set to
  ``--ratio``, then ``export_static_model``;
- ``tp``: ``torch_pruning.pruner.MetaPruner`` with
  ``MagnitudeImportance(p=1, group_reduction='mean', normalizer=None)``
  (Torch-Pruning's group L1 norm), ``pruning_ratio=--ratio``, local (not
  global) pruning and ``ignored_layers=[head.fc]``, then ``step()``.

Both prune the same 37 groups by the same count (the channel count of every
group is even), so the two pruned models have identical layer shapes, which
the script checks; only *which* channels go differs (our L1 sums the filters
that write a unit's channels, Torch-Pruning's averages every weight of the
group, readers and batch norms included), and that changes no cost.

MACs per sample of the original and both pruned models are counted with
the same counters: our ``ResourceEstimator`` (MMRazor / mmcv convention)
and torch's ``FlopCounterMode`` (FLOPs / 2, conv and linear only). Then, at
each of ``--batch-sizes``, it times ``model(x)`` under ``torch.no_grad`` for
the original, a deep copy of it (A/A control), ours and tp, interleaved
(ABCD, BCDA, ...), and reports medians, the speed-ups original / pruned,
the ratio ours / tp of the latency medians with its bootstrap interval
(target <= 1: our speed-up at least Torch-Pruning's) and the A/A ratio
original copy / original (the noise floor at that moment).

The defaults take about 3-4 minutes on 2 loaded CPU cores. ``--quick``
runs tiny inputs (32x32, ViT patch 8) with 2 rounds, for a smoke test.
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import time
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
# Sets OMP_WAIT_POLICY, so it comes before torch.
import _common as common  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

ANALYSIS_MODELS = ('resnet50', 'mobilenet_v2', 'deit_tiny')
TITLES = dict(resnet50='ResNet-50', mobilenet_v2='MobileNetV2',
              deit_tiny='ViT DeiT-tiny')
TARGET_RATIO = 1.0
QUICK = dict(input_size=32, vit_patch=8, analysis_repeats=2,
             analysis_warmup=0, batch_sizes=[1, 2], repeats=2, warmup=0,
             bootstrap=20)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line (``--quick`` overrides the sizes).

    Args:
        argv (Sequence[str], optional): The arguments; ``sys.argv[1:]`` when
            None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Analysis time, coupled groups, MACs and measured '
        'speed-up of channel pruning: mmrazor against Torch-Pruning.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        '--input-size', type=int, default=224, help='input height/width')
    parser.add_argument(
        '--vit-patch', type=int, default=16, help='patch size of the ViT')
    parser.add_argument(
        '--analysis-models', nargs='+', default=list(ANALYSIS_MODELS),
        choices=ANALYSIS_MODELS, help='models of part (a)')
    parser.add_argument(
        '--analysis-repeats', type=int, default=20,
        help='timed rounds of part (a), per model')
    parser.add_argument(
        '--analysis-warmup', type=int, default=1,
        help='untimed rounds of part (a), per model')
    parser.add_argument(
        '--ratio', type=float, default=0.5,
        help='share of the channels each group keeps in part (b)')
    parser.add_argument(
        '--batch-sizes', type=int, nargs='+', default=[1, 8],
        help='batch sizes timed in part (b)')
    parser.add_argument(
        '--repeats', type=int, default=30,
        help='timed rounds per batch size in part (b)')
    parser.add_argument(
        '--warmup', type=int, default=3,
        help='untimed rounds per batch size in part (b)')
    parser.add_argument(
        '--skip', choices=('analysis', 'pruning'),
        help='leave out part (a) (analysis) or (b) (pruning)')
    parser.add_argument(
        '--quick', action='store_true',
        help='tiny settings for a smoke run: ' +
        ', '.join(f'{k}={v}' for k, v in QUICK.items()))
    common.add_run_args(
        parser, seed_help='seed of the weights, inputs and bootstrap',
        bootstrap=True)
    common.add_output_args(parser, TARGET_RATIO, 'a')
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    common.require_positive(
        parser, args,
        ('input_size', 'vit_patch', 'analysis_repeats', 'repeats', 'threads'))
    if args.warmup < 0 or args.analysis_warmup < 0 or args.bootstrap < 0:
        parser.error('--warmup, --analysis-warmup and --bootstrap must be '
                     '>= 0')
    if any(b < 1 for b in args.batch_sizes):
        parser.error('--batch-sizes must be >= 1')
    if not 0 < args.ratio < 1:
        parser.error(f'--ratio must be in (0, 1), got {args.ratio}')
    if args.input_size % args.vit_patch:
        parser.error(f'--input-size {args.input_size} is not a multiple of '
                     f'--vit-patch {args.vit_patch}')
    common.check_new_path(args.json)
    return args


# --------------------------------------------------------------------------
# Models


def build_model(name: str, size: int, patch: int) -> nn.Module:
    """An mmcls ``ImageClassifier`` (1000 classes, random weights, eval).

    Args:
        name (str): One of :data:`ANALYSIS_MODELS`.
        size (int): Input height/width (the ViT's ``img_size``).
        patch (int): Patch size of the ViT.

    Returns:
        nn.Module: The model.
    """
    from mmcls.registry import MODELS
    if name == 'resnet50':
        backbone, channels = dict(type='ResNet', depth=50), 2048
    elif name == 'mobilenet_v2':
        backbone, channels = dict(type='MobileNetV2'), 1280
    elif name == 'deit_tiny':
        backbone, channels = dict(type='VisionTransformer', arch='deit-tiny',
                                  img_size=size, patch_size=patch), 192
    else:
        raise KeyError(f'unknown model {name!r}; known: '
                       f'{list(ANALYSIS_MODELS)}')
    vit = name == 'deit_tiny'
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=backbone,
            neck=None if vit else dict(type='GlobalAveragePooling'),
            head=dict(
                type='VisionTransformerClsHead' if vit else 'LinearClsHead',
                num_classes=1000,
                in_channels=channels)))
    model.eval()
    return model


def classifier_fc(model: nn.Module) -> nn.Module:
    """The final linear layer of an mmcls classifier's head."""
    head = model.head
    return head.layers.head if hasattr(head, 'layers') else head.fc


# --------------------------------------------------------------------------
# Part (a): analysis


def bench_analysis(name: str, args: argparse.Namespace) -> Dict[str, Any]:
    """Time our analysis against Torch-Pruning's graph on one model.

    Returns:
        dict: ``units``, ``excluded_units``, ``tp_groups`` (counts),
        ``stats`` (per call), ``tp_total_median_ms`` (median of the
        per-round build + groups times) and ``ratio`` (:func:`compare` of
        ours against ``tp_build``).
    """
    import torch_pruning as tp

    from mmrazor.models import ChannelAnalyzer

    size = args.input_size
    model = build_model(name, size, args.vit_patch)
    fc = classifier_fc(model)
    x = torch.rand(1, 3, size, size,
                   generator=torch.Generator().manual_seed(args.seed))
    analyzer = ChannelAnalyzer(demo_input=(1, 3, size, size))
    graph = tp.DependencyGraph().build_dependency(
        model, example_inputs=x, verbose=False)

    def tp_build():
        return tp.DependencyGraph().build_dependency(
            model, example_inputs=x, verbose=False)

    def tp_groups():
        return list(graph.get_all_groups(
            ignored_layers=[fc], root_module_types=[nn.Conv2d, nn.Linear]))

    calls: Dict[str, Callable[[], Any]] = dict(
        ours=partial(analyzer.analyze, model), tp_build=tp_build,
        tp_groups=tp_groups)
    times = common.time_rounds(calls, args.analysis_repeats,
                               args.analysis_warmup)
    total = [a + b for a, b in zip(times['tp_build']['wall'],
                                   times['tp_groups']['wall'])]
    return dict(
        units=len(analyzer.units),
        excluded_units=len(analyzer.excluded_units),
        tp_groups=len(tp_groups()),
        stats={k: common.summarize(t['wall'], t['cpu'])
               for k, t in times.items()},
        tp_total_median_ms=statistics.median(total) * 1e3,
        ratio=common.compare(times['ours'], times['tp_build'],
                             args.bootstrap, args.seed, TARGET_RATIO))


def format_analysis(results: Dict[str, Dict[str, Any]],
                    args: argparse.Namespace) -> str:
    """The table of part (a)."""
    lines = [
        f'(a) analysis, input {args.input_size}x{args.input_size}, '
        f'{args.analysis_repeats} rounds (median ms, wall clock; cpu: '
        'ratio of the CPU-time medians; TP b+g: build + groups)',
        f'  {"model":<14} {"ours":>8} {"TP build":>9} {"TP groups":>10} '
        f'{"TP b+g":>8}  {"ours/TP build [95%]":<24} {"cpu":>5} '
        f'{"ours units":>16} {"TP groups":>9}',
    ]
    for name, r in results.items():
        s, ratio = r['stats'], r['ratio']
        ci = ratio['ratio_bootstrap95']
        ci_text = f' [{ci[0]:.2f}-{ci[1]:.2f}]' if ci else ''
        units = f"{r['units']} (+{r['excluded_units']} excl.)"
        lines.append(
            f'  {TITLES[name]:<14} {s["ours"]["median_ms"]:>8.1f} '
            f'{s["tp_build"]["median_ms"]:>9.1f} '
            f'{s["tp_groups"]["median_ms"]:>10.1f} '
            f'{r["tp_total_median_ms"]:>8.1f}  '
            f'{ratio["ratio_median"]:.3f}{ci_text:<17} '
            f'{ratio["ratio_cpu_median"]:>5.2f} {units:>16} '
            f'{r["tp_groups"]:>9}  {ratio["verdict"]}')
    return '\n'.join(lines)


# --------------------------------------------------------------------------
# Part (b): pruning ResNet-50


def prune_ours(model: nn.Module, size: int, ratio: float) -> nn.Module:
    """L1 units set to ``ratio``, then the static export (on a copy)."""
    from mmrazor.models import ChannelMutator
    from mmrazor.models.utils import export_static_model
    supernet = copy.deepcopy(model)
    mutator = ChannelMutator(
        channel_unit_cfg=dict(
            type='L1MutableChannelUnit',
            default_args=dict(choice_mode='ratio')),
        parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, size, size)))
    mutator.prepare_from_supernet(supernet)
    mutator.set_choices({key: ratio for key in mutator.choices})
    return export_static_model(supernet)


def prune_tp(model: nn.Module, size: int, ratio: float) -> nn.Module:
    """Torch-Pruning's group L1 pruning at ``ratio`` (on a copy)."""
    import torch_pruning as tp
    pruned = copy.deepcopy(model)
    importance = tp.importance.MagnitudeImportance(
        p=1, group_reduction='mean', normalizer=None)
    pruner = tp.pruner.MetaPruner(
        pruned,
        example_inputs=torch.rand(1, 3, size, size),
        importance=importance,
        pruning_ratio=1 - ratio,
        global_pruning=False,
        ignored_layers=[classifier_fc(pruned)])
    pruner.step()
    return pruned.eval()


def count_macs(models: Dict[str, nn.Module], size: int) -> Dict[str, Any]:
    """Params (M) and MACs per sample (M) by both counters."""
    from torch.utils.flop_counter import FlopCounterMode

    from mmrazor.models.task_modules import ResourceEstimator
    estimator = ResourceEstimator(input_shape=(1, 3, size, size))
    x = torch.rand(1, 3, size, size)
    result = {}
    for name, model in models.items():
        estimate = estimator.estimate(model)
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(x)
        result[name] = dict(
            params=estimate['params'],
            macs_estimator=estimate['flops'],
            macs_flop_counter=counter.get_total_flops() / 2e6)
    return result


def layer_shapes(model: nn.Module) -> List[Any]:
    """``(name, shape)`` of every parameter and buffer."""
    return [(n, tuple(t.shape)) for n, t in
            list(model.named_parameters()) + list(model.named_buffers())]


def bench_pruning(args: argparse.Namespace) -> Dict[str, Any]:
    """Prune ResNet-50 both ways, count MACs, time the forwards."""
    size = args.input_size
    original = build_model('resnet50', size, args.vit_patch)
    start = time.perf_counter()
    ours = prune_ours(original, size, args.ratio)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    tp_model = prune_tp(original, size, args.ratio)
    tp_s = time.perf_counter() - start
    models = dict(original=original, ours=ours, tp=tp_model)
    result: Dict[str, Any] = dict(
        prune_s=dict(ours=ours_s, tp=tp_s),
        same_shapes=layer_shapes(ours) == layer_shapes(tp_model),
        counts=count_macs(models, size), batches={})
    models['original_copy'] = copy.deepcopy(original)
    gen = torch.Generator().manual_seed(args.seed)
    order = ('original', 'ours', 'tp', 'original_copy')
    with torch.no_grad():
        for bs in args.batch_sizes:
            x = torch.rand(bs, 3, size, size, generator=gen)
            times = common.time_rounds(
                {name: partial(models[name], x) for name in order},
                args.repeats, args.warmup)
            stats = {k: common.summarize(t['wall'], t['cpu'])
                     for k, t in times.items()}
            orig = stats['original']['median_ms']
            result['batches'][str(bs)] = dict(
                stats=stats,
                speedup=dict(ours=orig / stats['ours']['median_ms'],
                             tp=orig / stats['tp']['median_ms']),
                ours_vs_tp=common.compare(times['ours'], times['tp'],
                                          args.bootstrap, args.seed,
                                          TARGET_RATIO),
                control=common.compare(times['original_copy'],
                                       times['original'], args.bootstrap,
                                       args.seed, TARGET_RATIO))
    return result


def format_pruning(r: Dict[str, Any], args: argparse.Namespace) -> str:
    """The tables of part (b)."""
    c = r['counts']
    lines = [
        f'(b) ResNet-50 (mmcls, 1000 classes), every group kept at '
        f'{args.ratio:g} of its channels, input {args.input_size}x'
        f'{args.input_size}',
        f"  pruning took: ours {r['prune_s']['ours']:.2f} s, TP "
        f"{r['prune_s']['tp']:.2f} s; identical layer shapes: "
        f"{'yes' if r['same_shapes'] else 'NO'}",
        f'  {"model":<9} {"params M":>9} {"MACs M (estimator)":>19} '
        f'{"ratio":>6} {"MACs M (FlopCounterMode)":>25} {"ratio":>6}',
    ]
    for name in ('original', 'ours', 'tp'):
        m = c[name]
        lines.append(
            f'  {name:<9} {m["params"]:>9.3f} {m["macs_estimator"]:>19.1f} '
            f'{m["macs_estimator"] / c["original"]["macs_estimator"]:>6.3f} '
            f'{m["macs_flop_counter"]:>25.1f} '
            f'{m["macs_flop_counter"] / c["original"]["macs_flop_counter"]:>6.3f}'  # noqa: E501
        )
    lines.append(f'  latency, {args.repeats} rounds (median ms; speed-up = '
                 'original / pruned)')
    lines.append(f'  {"batch":>5} {"model":>13} {common.STATS_HEADER}')
    for bs, entry in r['batches'].items():
        for name, s in entry['stats'].items():
            lines.append(f'  {bs:>5} {name:>13} {common.stats_cells(s)}')
        sp = entry['speedup']
        lines.append(f'  {"":>5} speed-up: ours {sp["ours"]:.2f}x, TP '
                     f'{sp["tp"]:.2f}x')
        lines += common.ratio_lines('ours/tp latency', entry['ours_vs_tp'],
                                    TARGET_RATIO, ' ' * 6, ' ' * 6)
        lines += common.ratio_lines('original_copy/original',
                                    entry['control'], None, ' ' * 6,
                                    ' ' * 6)
    return '\n'.join(lines)


# --------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Run the benchmark and print its tables.

    Args:
        argv (Sequence[str], optional): Command-line arguments; see
            ``--help``. ``sys.argv[1:]`` when None.

    Returns:
        dict: ``meta``, ``analysis`` (per model, part (a)) and ``pruning``
        (part (b)); also written to ``--json``. ``within_target`` is False
        when a ratio of medians exceeds the target.
    """
    import torch_pruning as tp

    args = parse_args(argv)
    common.setup_torch(args.threads, args.seed)
    meta = dict(
        common.machine_meta(load_avg=True),
        torch_pruning=getattr(tp, '__version__', None),
        **{k: getattr(args, k) for k in (
            'input_size', 'vit_patch', 'analysis_repeats', 'analysis_warmup',
            'ratio', 'batch_sizes', 'repeats', 'warmup', 'quick', 'strict')})
    print(f'{common.machine_line(meta)}; torch-pruning '
          f'{meta["torch_pruning"]}')
    report: Dict[str, Any] = dict(meta=meta, analysis={}, pruning=None)
    ratios = []
    if args.skip != 'analysis':
        for name in args.analysis_models:
            report['analysis'][name] = bench_analysis(name, args)
            ratios.append(report['analysis'][name]['ratio']['ratio_median'])
        print(format_analysis(report['analysis'], args))
    if args.skip != 'pruning':
        report['pruning'] = bench_pruning(args)
        ratios += [e['ours_vs_tp']['ratio_median']
                   for e in report['pruning']['batches'].values()]
        print(format_pruning(report['pruning'], args))
    report['within_target'] = all(r <= TARGET_RATIO for r in ratios)
    if args.json:
        common.write_json(args.json, report, announce=True)
    return report


def cli() -> int:
    """Entry point: the exit status is 1 if the pruned layer shapes differ
    (or, with ``--strict``, if a ratio exceeds the target)."""
    report = main()
    if report['pruning'] is not None and not report['pruning']['same_shapes']:
        return 1
    if report['meta']['strict'] and not report['within_target']:
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(cli())
