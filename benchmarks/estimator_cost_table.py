# Copyright (c) OpenMMLab. All rights reserved.
"""SPOS ShuffleNetV2: FLOPs/params of random subnets by cost table vs forward.

Run from the repository root::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python \
        benchmarks/estimator_cost_table.py --num 100 --threads 2 \
        --json work_dirs/estimator_cost_table.json

What it does:

1. Builds the ``supernet`` classifier (mmcls ``ImageClassifier`` with the
   ``SearchableShuffleNetV2`` backbone, 1000 classes) of
   ``configs/nas/mmcls/spos/spos_shufflenet_supernet_8xb128_in1k.py`` and a
   ``NasMutator`` prepared from it.
2. Builds a ``ResourceEstimator`` (input ``1x3xSxS``), runs one untimed
   meta estimate (torch's one-off set-up of its meta kernels, timed and
   reported apart) and times ``estimator.build_cost_table``.
3. Draws ``--num`` subnets with ``NasMutator.sample_choices`` and, for each,
   times three ways of getting its FLOPs and params, interleaved:

   - ``table``: ``SubnetCostTable.estimate(choices)``, dict lookups;
   - ``meta``: ``mutator.set_choices`` + ``estimator.estimate(supernet)``,
     a counted forward on the meta device (the default);
   - ``cpu``: the same with ``use_meta=False``: a real forward on the CPU
     with counting hooks, which is what the original MMRazor estimator does
     (here on ``--cpu-num`` subnets, all by default).

4. Checks that all three give the same figures (relative difference
   <= 1e-6) and prints the median and mean milliseconds per candidate, the
   ratios to the table, and after how many candidates the table's build
   cost is paid back.

Timings on a shared machine are noisy: compare the ratios, which are orders
of magnitude apart, not the absolute times.
"""
import argparse
import os.path as osp
import platform
import random
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

DEFAULT_CONFIG = common.SPOS_CONFIG
TOL = 1e-6
METHODS = ('table', 'meta', 'cpu')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; ``sys.argv[1:]`` when
            None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Time FLOPs/params estimates of random SPOS subnets: '
        'cost-table lookups against counted forwards (meta and CPU).',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        '--config', default=DEFAULT_CONFIG, help='config with `supernet`')
    parser.add_argument(
        '--num', type=int, default=100, help='random subnets to estimate')
    parser.add_argument(
        '--cpu-num',
        type=int,
        default=None,
        help='how many of them also get the real CPU forward estimate '
        '(default: all)')
    parser.add_argument(
        '--input-size', type=int, default=224, help='input height/width')
    common.add_run_args(
        parser, seed_help='seed of the random subnets', bootstrap=False)
    common.add_output_args(parser)
    args = parser.parse_args(argv)
    common.require_positive(parser, args, ('num', 'input_size', 'threads'))
    if args.cpu_num is None:
        args.cpu_num = args.num
    if not 0 <= args.cpu_num <= args.num:
        parser.error(f'--cpu-num must be in [0, --num={args.num}], but got '
                     f'{args.cpu_num}')
    return args


def _timed(fn: Callable[[], Any]) -> tuple:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _forward_estimate(estimator: Any,
                      supernet: nn.Module,
                      mutator: Any,
                      choices: Dict[str, Any],
                      cfg: Optional[Dict[str, Any]] = None) -> Dict:
    """Set ``choices`` on the supernet and estimate it with a forward."""
    mutator.set_choices(choices)
    return estimator.estimate(supernet, cfg)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def summarize(seconds: List[float]) -> Dict[str, float]:
    """Median, mean, min and total of per-candidate times, in ms (total s).
    """
    return dict(
        n=len(seconds),
        median_ms=statistics.median(seconds) * 1e3,
        mean_ms=statistics.fmean(seconds) * 1e3,
        min_ms=min(seconds) * 1e3,
        total_s=sum(seconds))


def format_report(report: Dict[str, Any]) -> str:
    """The side-by-side table that :func:`main` prints."""
    lines = [
        f"SPOS ShuffleNetV2 at {report['input_shape']}, "
        f"{report['num']} random subnets, torch {report['torch']}, "
        f"{report['threads']} threads",
        f"first meta estimate (torch set-up): "
        f"{report['first_meta_s']:.2f} s; cost table build: "
        f"{report['build_s']:.2f} s "
        f"({report['build_ms_per_candidate']:.2f} ms per candidate op)",
        f"{'method':<7}{'n':>5}{'median ms':>13}{'mean ms':>12}"
        f"{'x table (median)':>18}{'x table (mean)':>16}",
    ]
    table = report['methods']['table']
    for name in METHODS:
        entry = report['methods'].get(name)
        if not entry:
            continue
        lines.append(
            f"{name:<7}{entry['n']:>5}{entry['median_ms']:>13.4f}"
            f"{entry['mean_ms']:>12.4f}"
            f"{entry['median_ms'] / table['median_ms']:>18.0f}"
            f"{entry['mean_ms'] / table['mean_ms']:>16.0f}")
    lines.append(
        f"table pays back its build after {report['break_even_meta']:.1f} "
        f"candidates vs meta, {report['break_even_cpu']:.1f} vs cpu; "
        f"max relative difference {report['max_rel_diff']:.2e} "
        f"({'OK' if report['parity_ok'] else 'MISMATCH'})")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Run the benchmark, print its table and return the figures."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from mmrazor.models import NasMutator, ResourceEstimator

    supernet = common.build_supernet(args.config)
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    shape = (1, 3, args.input_size, args.input_size)
    estimator = ResourceEstimator(input_shape=shape)
    cpu_cfg = dict(use_meta=False)

    mutator.set_choices(mutator.sample_choices())
    _, first_meta = _timed(lambda: estimator.estimate(supernet))
    table, build_s = _timed(
        lambda: estimator.build_cost_table(supernet, mutator))
    num_ops = sum(len(c) * len(mutator.search_groups[k])
                  for k, c in mutator.choices.items())

    random.seed(args.seed)
    subnets = [mutator.sample_choices() for _ in range(args.num)]
    times: Dict[str, List[float]] = {name: [] for name in METHODS}
    max_rel = 0.0
    for i, choices in enumerate(subnets):
        ref, sec = _timed(partial(table.estimate, choices))
        times['table'].append(sec)
        results = [ref]
        res, sec = _timed(
            partial(_forward_estimate, estimator, supernet, mutator, choices))
        times['meta'].append(sec)
        results.append(res)
        if i < args.cpu_num:
            res, sec = _timed(
                partial(_forward_estimate, estimator, supernet, mutator,
                        choices, cpu_cfg))
            times['cpu'].append(sec)
            results.append(res)
        for res in results[1:]:
            for key in ('flops', 'params'):
                max_rel = max(max_rel, _rel(ref[key], res[key]))

    methods = {k: summarize(v) for k, v in times.items() if v}
    table_ms = methods['table']['mean_ms']

    def break_even(name: str) -> float:
        if name not in methods:
            return float('nan')
        return build_s * 1e3 / (methods[name]['mean_ms'] - table_ms)

    report = dict(
        input_shape=list(shape),
        num=args.num,
        cpu_num=args.cpu_num,
        seed=args.seed,
        threads=args.threads,
        torch=torch.__version__,
        python=platform.python_version(),
        first_meta_s=first_meta,
        build_s=build_s,
        candidate_ops=num_ops,
        build_ms_per_candidate=build_s * 1e3 / num_ops,
        methods=methods,
        break_even_meta=break_even('meta'),
        break_even_cpu=break_even('cpu'),
        max_rel_diff=max_rel,
        parity_ok=max_rel <= TOL,
        example=dict(choices=subnets[0], estimate=table.estimate(subnets[0])),
    )
    print(format_report(report))
    if args.json:
        common.write_json(args.json, report, announce=False)
    return report


def cli() -> int:
    """Entry point: exit status 1 if the estimates disagree."""
    return 0 if main()['parity_ok'] else 1


if __name__ == '__main__':
    sys.exit(cli())
