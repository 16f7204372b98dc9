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
import os.path as osp
import sys
import time
from functools import partial
from typing import Any, Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
# Sets OMP_WAIT_POLICY, so it comes before torch.
import _common as common  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

REPO_ROOT = common.REPO_ROOT
SPOS_DIR = common.SPOS_DIR
DEFAULT_CONFIG = common.SPOS_CONFIG
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
    common.add_run_args(
        parser,
        seed_help='seed of the weights, inputs, random subnets and bootstrap',
        bootstrap=True)
    parser.add_argument(
        '--control',
        action='store_true',
        help='also time a deep copy of the static model and report its '
        'ratio to the static model (A/A test: the noise floor of the '
        'machine); costs 50%% more time')
    common.add_output_args(parser, TARGET_RATIO, 'a')
    args = parser.parse_args(argv)
    common.require_positive(parser, args, ('repeats', 'input_size', 'threads'))
    if args.warmup < 0 or args.random < 0 or args.bootstrap < 0:
        parser.error('--warmup, --random and --bootstrap must be >= 0')
    if any(b < 1 for b in args.batch_sizes):
        parser.error('--batch-sizes must be >= 1')
    return args


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
            times = common.time_rounds(
                {name: partial(model, x)
                 for name, model in models.items()}, args.repeats,
                args.warmup)
            entry: Dict[str, Any] = dict(batch_size=bs, max_abs_diff=diff)
            entry['stats'] = {
                name: common.summarize(t['wall'], t['cpu'])
                for name, t in times.items()
            }
            entry.update(
                common.compare(times['supernet'], times['static'],
                               args.bootstrap, seed, TARGET_RATIO))
            if args.control:
                entry['control'] = common.compare(times['static_copy'],
                                                  times['static'],
                                                  args.bootstrap, seed,
                                                  TARGET_RATIO)
            result['batches'][str(bs)] = entry
    result['max_abs_diff'] = max_diff
    result['parity_ok'] = max_diff <= PARITY_TOL
    return result


def _ratio_lines(label: str, bs: int, ratios: Dict[str, Any],
                 judge: bool) -> List[str]:
    return common.ratio_lines(label, ratios,
                              TARGET_RATIO if judge else None, f'{bs:>5} ',
                              ' ' * 6)


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
    header = f'  {"batch":>5} {"model":>11} {common.STATS_HEADER}'
    lines.append(header)
    lines.append('  ' + '-' * (len(header) - 2))
    for entry in result['batches'].values():
        bs = entry['batch_size']
        for model, s in entry['stats'].items():
            lines.append(
                f'  {bs:>5} {model:>11} {common.stats_cells(s)}')
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
    common.setup_torch(args.threads, args.seed)

    start = time.perf_counter()
    supernet = common.build_supernet(args.config)
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
        common.machine_meta(),
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
    print(f'{common.machine_line(meta)}; input '
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
        common.write_json(args.json, report, announce=True)
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
