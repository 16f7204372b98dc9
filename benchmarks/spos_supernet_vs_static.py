# Copyright (c) OpenMMLab. All rights reserved.
"""SPOS ShuffleNetV2: supernet at a fixed choice vs. its exported static model.

Run from the repository root::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python \
        benchmarks/spos_supernet_vs_static.py \
        --batch-sizes 1 16 --repeats 60 --warmup 5 --threads 2 \
        --json work_dirs/spos_bench.json

What it does:

1. Builds the ``supernet`` classifier (mmcls ``ImageClassifier`` with the
   ``SearchableShuffleNetV2`` backbone, 1000 classes) of
   ``configs/nas/mmcls/spos/spos_shufflenet_supernet_8xb128_in1k.py`` with
   random weights, in eval mode.
2. Sets one choice per mutable with ``NasMutator.set_choices``: the subnet of
   ``configs/nas/mmcls/spos/SPOS_SUBNET.yaml`` by default, or ``--random N``
   subnets drawn with ``NasMutator.sample_choices``.
3. Exports the static model: ``export_static_model`` on the supernet (a deep
   copy), or, with ``--static-from fix-subnet``, ``load_fix_subnet`` on a
   deep copy followed by an in-place export.
4. Checks that both give the same logits (max abs difference <= 1e-5 at every
   batch size) and that the static model has no mutable left.
5. Times ``model(x)`` (``mode='tensor'``: backbone, neck and head; no data
   preprocessor) under ``torch.inference_mode`` for each batch size, the two
   models interleaved in one process (pairs alternate the order AB, BA, ...
   so neither model always runs right after the other), and reports per
   model the median, p10, p90 and min wall-clock latency and the median CPU
   time, and the ratio supernet / static of the medians with a bootstrap 95%
   interval, plus sanity ratios: of the minima, the median of the per-pair
   ratios and of the median CPU times. The target is a ratio of medians
   <= 1.03: a supernet at a fixed choice should cost no more than the static
   model. With ``--control``, a deep copy of the static model is timed as a
   third model and compared with the static one (an A/A test), which shows
   the noise floor of the machine at that moment.

The default settings take about 1 minute on 2 idle CPU cores (2.5-3 minutes
when other processes load them). Timings on a
shared machine are noisy: compare the ratios, not the absolute latencies,
and set ``OMP_WAIT_POLICY=PASSIVE`` (set here by default when unset) so that
idle OpenMP threads do not spin.
"""
import argparse
import copy
import datetime
import json
import os
import os.path as osp
import platform
import random
import statistics
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

# Must be set before torch (OpenMP) is loaded to take effect.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SPOS_DIR = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'spos')
DEFAULT_CONFIG = osp.join(SPOS_DIR, 'spos_shufflenet_supernet_8xb128_in1k.py')
DEFAULT_SUBNET = osp.join(SPOS_DIR, 'SPOS_SUBNET.yaml')
PARITY_TOL = 1e-5
TARGET_RATIO = 1.03


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; ``sys.argv[1:]`` when
            None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Time the SPOS ShuffleNetV2 supernet at a fixed choice '
        'against the static model exported from it (same weights), after '
        'checking that both give the same outputs.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        '--config', default=DEFAULT_CONFIG, help='config with `supernet`')
    parser.add_argument(
        '--subnet',
        default=DEFAULT_SUBNET,
        help='subnet yaml ({name: {chosen: ...}}) to benchmark')
    parser.add_argument(
        '--random',
        type=int,
        default=0,
        metavar='N',
        help='benchmark N random subnets (NasMutator.sample_choices) '
        'instead of --subnet')
    parser.add_argument(
        '--static-from',
        choices=('mutator', 'fix-subnet'),
        default='mutator',
        help='how the static model is made: export_static_model of the '
        'supernet after NasMutator.set_choices, or load_fix_subnet on a '
        'deep copy then an in-place export')
    parser.add_argument(
        '--batch-sizes',
        type=int,
        nargs='+',
        default=[1, 16],
        help='batch sizes to time')
    parser.add_argument(
        '--input-size', type=int, default=224, help='input height/width')
    parser.add_argument(
        '--repeats',
        type=int,
        default=60,
        help='timed forwards per model and batch size')
    parser.add_argument(
        '--warmup',
        type=int,
        default=5,
        help='untimed forwards per model and batch size')
    parser.add_argument(
        '--threads', type=int, default=2, help='torch.set_num_threads')
    parser.add_argument(
        '--bootstrap',
        type=int,
        default=2000,
        help='bootstrap resamples for the ratio interval')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the weights, inputs, random subnets and bootstrap')
    parser.add_argument(
        '--control',
        action='store_true',
        help='also time a deep copy of the static model and report its '
        'ratio to the static model (A/A test: the noise floor of the '
        'machine); costs 50%% more time')
    parser.add_argument(
        '--json', metavar='PATH', help='write the figures to this file')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='exit with status 1 also when a ratio exceeds the target '
        f'({TARGET_RATIO})')
    args = parser.parse_args(argv)
    for name in ('repeats', 'input_size', 'threads'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.warmup < 0 or args.random < 0 or args.bootstrap < 0:
        parser.error('--warmup, --random and --bootstrap must be >= 0')
    if any(b < 1 for b in args.batch_sizes):
        parser.error('--batch-sizes must be >= 1')
    return args


def build_supernet(config: str) -> nn.Module:
    """Build the ``supernet`` classifier of ``config`` in eval mode.

    Args:
        config (str): Path of a config that defines ``supernet``.

    Returns:
        nn.Module: The supernet (random weights, eval mode).
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import mmrazor  # noqa: F401  (registers the mmrazor modules)
    from mmrazor.registry import MODELS

    cfg = Config.fromfile(config)
    # The config's modules are mmcls ones unless they name another scope.
    with DefaultScope.overwrite_default_scope('mmcls'):
        model = MODELS.build(cfg.supernet)
    return model.eval()


def make_static(supernet: nn.Module, choices: Dict[str, Any],
                static_from: str) -> nn.Module:
    """Export the static model of ``supernet`` at ``choices``.

    Args:
        supernet (nn.Module): The supernet, already set to ``choices``.
        choices (dict): ``{mutable name: choice}``.
        static_from (str): ``'mutator'`` exports a deep copy of the supernet
            as it is; ``'fix-subnet'`` applies ``load_fix_subnet`` to a deep
            copy, then exports it in place.

    Returns:
        nn.Module: The static model, in eval mode.
    """
    from mmrazor.models.utils import export_static_model
    from mmrazor.structures.subnet import choices_to_subnet, load_fix_subnet

    if static_from == 'mutator':
        static = export_static_model(supernet)
    else:
        static = copy.deepcopy(supernet)
        load_fix_subnet(static, choices_to_subnet(choices))
        static = export_static_model(static, inplace=True)
    return static.eval()


def count_module_calls(model: nn.Module, x: torch.Tensor) -> int:
    """Number of ``nn.Module`` calls in one forward of ``model``.

    A global forward pre-hook is installed for this one forward only, so the
    timed forwards run without hooks.
    """
    calls = [0]

    def hook(module: nn.Module, args: Any) -> None:
        calls[0] += 1

    handle = nn.modules.module.register_module_forward_pre_hook(hook)
    try:
        model(x)
    finally:
        handle.remove()
    return calls[0]


def percentile(values: Sequence[float], q: float) -> float:
    """Percentile ``q`` (0-100) of ``values``, interpolated linearly."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summarize(wall: Sequence[float],
              cpu: Sequence[float]) -> Dict[str, float]:
    """Latency statistics, in milliseconds.

    Args:
        wall (Sequence[float]): Wall-clock times, in seconds.
        cpu (Sequence[float]): CPU times, in seconds.

    Returns:
        dict: ``n``, ``median_ms``, ``p10_ms``, ``p90_ms``, ``min_ms`` and
        ``mean_ms`` of the wall-clock times, and ``cpu_median_ms``.
    """
    ms = [t * 1e3 for t in wall]
    return dict(
        n=len(ms),
        median_ms=statistics.median(ms),
        p10_ms=percentile(ms, 10),
        p90_ms=percentile(ms, 90),
        min_ms=min(ms),
        mean_ms=statistics.fmean(ms),
        cpu_median_ms=statistics.median(cpu) * 1e3)


def bootstrap_ratio(num: Sequence[float], den: Sequence[float],
                    resamples: int, seed: int) -> Optional[List[float]]:
    """95% bootstrap interval of ``median(num) / median(den)``.

    The pairs ``(num[i], den[i])`` are resampled together, since they were
    measured back to back.

    Returns:
        list[float] | None: ``[low, high]``, or None if ``resamples`` is 0.
    """
    if resamples == 0:
        return None
    rng = random.Random(seed)
    n = len(num)
    ratios = []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        ratios.append(
            statistics.median(num[i] for i in idx) /
            statistics.median(den[i] for i in idx))
    return [percentile(ratios, 2.5), percentile(ratios, 97.5)]


def verdict(entry: Dict[str, Any]) -> str:
    """Judge a batch size's ratio of medians against the target.

    Returns:
        str: ``'OK'``; ``'above target, within noise'`` when the bootstrap
        interval still reaches the target; else ``'ABOVE TARGET'``.
    """
    if entry['within_target']:
        return 'OK'
    ci = entry['ratio_bootstrap95']
    if ci is not None and ci[0] <= TARGET_RATIO:
        return 'above target, within noise'
    return 'ABOVE TARGET'


def time_models(models: Dict[str, nn.Module], x: torch.Tensor, repeats: int,
                warmup: int) -> Dict[str, Dict[str, List[float]]]:
    """Time ``model(x)`` for every model, interleaved.

    Each of the ``repeats`` rounds runs every model once, rotating which one
    goes first (AB, BA, AB, ... for two models), so that none always runs
    right after the same other one. Every forward is timed with the wall
    clock (``time.perf_counter``) and with the CPU time of the process, all
    threads together (``time.process_time``), which other processes on a
    shared machine disturb less.

    Args:
        models (dict[str, nn.Module]): The models by name.
        x (torch.Tensor): The input.
        repeats (int): Timed rounds.
        warmup (int): Untimed rounds first.

    Returns:
        dict: ``{name: {'wall': [s], 'cpu': [s]}}``, one value per round.
    """
    names = list(models)
    for _ in range(warmup):
        for name in names:
            models[name](x)
    times: Dict[str, Dict[str, List[float]]] = {
        name: dict(wall=[], cpu=[])
        for name in names
    }
    for i in range(repeats):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            cpu_start = time.process_time()
            start = time.perf_counter()
            models[name](x)
            end = time.perf_counter()
            times[name]['cpu'].append(time.process_time() - cpu_start)
            times[name]['wall'].append(end - start)
    return times


def compare(num: Dict[str, List[float]], den: Dict[str, List[float]],
            resamples: int, seed: int) -> Dict[str, Any]:
    """Ratios ``num / den`` of two models timed by :func:`time_models`.

    Returns:
        dict: ``ratio_median`` (of the wall-clock medians, the headline
        figure), ``ratio_bootstrap95``, ``ratio_min`` (of the minima),
        ``ratio_paired_median`` (median of the per-round ratios),
        ``ratio_cpu_median`` (of the CPU-time medians), ``within_target``
        and ``verdict``.
    """
    ratio = statistics.median(num['wall']) / statistics.median(den['wall'])
    result = dict(
        ratio_median=ratio,
        ratio_bootstrap95=bootstrap_ratio(num['wall'], den['wall'],
                                          resamples, seed),
        ratio_min=min(num['wall']) / min(den['wall']),
        ratio_paired_median=statistics.median(
            a / b for a, b in zip(num['wall'], den['wall'])),
        ratio_cpu_median=statistics.median(num['cpu']) /
        statistics.median(den['cpu']),
        within_target=ratio <= TARGET_RATIO)
    result['verdict'] = verdict(result)
    return result


def bench_subnet(supernet: nn.Module, static: nn.Module,
                 args: argparse.Namespace, seed: int) -> Dict[str, Any]:
    """Check parity and time one subnet at every batch size.

    With ``args.control``, a deep copy of the static model is timed too and
    compared with the static model (an A/A test: any ratio away from 1 is
    noise or memory placement, not the supernet).

    Returns:
        dict: ``max_abs_diff``, ``parity_ok``, ``module_calls`` and one entry
        per batch size under ``batches``: ``stats`` (latency statistics per
        model), the ratios supernet / static of :func:`compare` and, with
        ``args.control``, ``control`` (the ratios static copy / static).
    """
    gen = torch.Generator().manual_seed(seed)
    size = args.input_size
    models = dict(supernet=supernet, static=static)
    if args.control:
        models['static_copy'] = copy.deepcopy(static)
    result: Dict[str, Any] = dict(batches={})
    max_diff = 0.0
    with torch.inference_mode():
        for bs in args.batch_sizes:
            x = torch.randn(bs, 3, size, size, generator=gen)
            out_super = supernet(x)
            out_static = static(x)
            if out_super.shape != out_static.shape:
                raise RuntimeError(
                    f'Output shapes differ: supernet {tuple(out_super.shape)}'
                    f', static {tuple(out_static.shape)}')
            diff = (out_super - out_static).abs().max().item()
            max_diff = max(max_diff, diff)
            if 'module_calls' not in result:
                result['module_calls'] = dict(
                    supernet=count_module_calls(supernet, x),
                    static=count_module_calls(static, x))
            times = time_models(models, x, args.repeats, args.warmup)
            entry: Dict[str, Any] = dict(batch_size=bs, max_abs_diff=diff)
            entry['stats'] = {
                name: summarize(t['wall'], t['cpu'])
                for name, t in times.items()
            }
            entry.update(
                compare(times['supernet'], times['static'], args.bootstrap,
                        seed))
            if args.control:
                entry['control'] = compare(times['static_copy'],
                                           times['static'], args.bootstrap,
                                           seed)
            result['batches'][str(bs)] = entry
    result['max_abs_diff'] = max_diff
    result['parity_ok'] = max_diff <= PARITY_TOL
    return result


def _ratio_lines(label: str, bs: int, ratios: Dict[str, Any],
                 judge: bool) -> List[str]:
    ci = ratios['ratio_bootstrap95']
    ci_text = f' [bootstrap 95% {ci[0]:.3f}-{ci[1]:.3f}]' if ci else ''
    verdict_text = (f' (target <= {TARGET_RATIO}) -> {ratios["verdict"]}'
                    if judge else ' (noise floor)')
    return [
        f'  {bs:>5} ratio {label} of medians '
        f'{ratios["ratio_median"]:.3f}{ci_text}{verdict_text}',
        f'  {"":>5} sanity ratios: min {ratios["ratio_min"]:.3f}, '
        f'median of pairs {ratios["ratio_paired_median"]:.3f}, '
        f'cpu time {ratios["ratio_cpu_median"]:.3f}'
    ]


def format_table(name: str, result: Dict[str, Any]) -> str:
    """Render one subnet's figures as a text table."""
    calls = result['module_calls']
    lines = [
        f'subnet: {name}',
        f'  parity: max |supernet - static| = {result["max_abs_diff"]:.3e} '
        f'(tol {PARITY_TOL:g}) -> '
        f'{"OK" if result["parity_ok"] else "FAIL"}',
        f'  module calls per forward: supernet {calls["supernet"]}, '
        f'static {calls["static"]}',
    ]
    header = (f'  {"batch":>5} {"model":>11} {"median ms":>10} '
              f'{"p10 ms":>9} {"p90 ms":>9} {"min ms":>9} {"cpu ms":>9}')
    lines.append(header)
    lines.append('  ' + '-' * (len(header) - 2))
    for entry in result['batches'].values():
        bs = entry['batch_size']
        for model, s in entry['stats'].items():
            lines.append(f'  {bs:>5} {model:>11} '
                         f'{s["median_ms"]:>10.2f} {s["p10_ms"]:>9.2f} '
                         f'{s["p90_ms"]:>9.2f} {s["min_ms"]:>9.2f} '
                         f'{s["cpu_median_ms"]:>9.2f}')
        lines += _ratio_lines('supernet/static', bs, entry, judge=True)
        if 'control' in entry:
            lines += _ratio_lines('static_copy/static', bs, entry['control'],
                                  judge=False)
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Run the benchmark and print a table.

    Args:
        argv (Sequence[str], optional): Command-line arguments; see
            ``--help``. ``sys.argv[1:]`` when None.

    Returns:
        dict: The figures (also written to ``--json``): ``meta``,
        ``subnets`` (per subnet: ``choices``, ``max_abs_diff``, ``parity_ok``,
        ``module_calls`` and per batch size the latency statistics and
        ratios), ``max_abs_diff``, ``worst_ratio`` and ``parity_ok``.
    """
    from mmrazor.models.mutators import NasMutator
    from mmrazor.models.utils import count_mutables
    from mmrazor.structures.subnet import load_subnet_dict, subnet_to_choices

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)

    start = time.perf_counter()
    supernet = build_supernet(args.config)
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    build_s = time.perf_counter() - start

    if args.random:
        subnets = {
            f'random-{i}': mutator.sample_choices()
            for i in range(args.random)
        }
    else:
        subnets = {
            osp.basename(args.subnet):
            subnet_to_choices(load_subnet_dict(args.subnet))
        }

    meta = dict(
        date=datetime.datetime.now().astimezone().isoformat(
            timespec='seconds'),
        torch=torch.__version__,
        python=platform.python_version(),
        machine=platform.machine(),
        processor=platform.processor(),
        cpu_count=os.cpu_count(),
        threads=torch.get_num_threads(),
        omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'),
        config=osp.relpath(args.config, REPO_ROOT),
        subnet=(f'{args.random} random (seed {args.seed})'
                if args.random else osp.relpath(args.subnet, REPO_ROOT)),
        static_from=args.static_from,
        control=args.control,
        batch_sizes=args.batch_sizes,
        input_size=args.input_size,
        repeats=args.repeats,
        warmup=args.warmup,
        parity_tol=PARITY_TOL,
        target_ratio=TARGET_RATIO,
        strict=args.strict,
        build_s=build_s)
    print(f'torch {meta["torch"]}, threads {meta["threads"]}, '
          f'{meta["cpu_count"]} CPUs, '
          f'OMP_WAIT_POLICY={meta["omp_wait_policy"]}; input '
          f'{args.input_size}x{args.input_size}, repeats '
          f'{args.repeats}, warmup {args.warmup}; supernet built in '
          f'{build_s:.1f} s')

    results: Dict[str, Any] = {}
    for index, (name, choices) in enumerate(subnets.items()):
        mutator.set_choices(choices)
        static = make_static(supernet, choices, args.static_from)
        left = count_mutables(static)
        if left:
            raise RuntimeError(f'The static model still has {left} mutables')
        result = bench_subnet(supernet, static, args, args.seed + index)
        result['choices'] = choices
        results[name] = result
        print(format_table(name, result))
        del static

    ratios = [
        entry['ratio_median'] for r in results.values()
        for entry in r['batches'].values()
    ]
    report = dict(
        meta=meta,
        subnets=results,
        max_abs_diff=max(r['max_abs_diff'] for r in results.values()),
        worst_ratio=max(ratios),
        parity_ok=all(r['parity_ok'] for r in results.values()))
    print(f'max abs diff {report["max_abs_diff"]:.3e}, worst ratio of '
          f'medians {report["worst_ratio"]:.3f} (target <= {TARGET_RATIO})')
    if args.json:
        if osp.exists(args.json):
            raise FileExistsError(f'{args.json} already exists; choose '
                                  'another --json path')
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'figures written to {args.json}')
    return report


def cli() -> int:
    """Entry point: the exit status is 1 if parity fails (or, with
    ``--strict``, if a ratio exceeds the target)."""
    report = main()
    if not report['parity_ok']:
        return 1
    if report['meta']['strict'] and report['worst_ratio'] > TARGET_RATIO:
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(cli())
