# Copyright (c) OpenMMLab. All rights reserved.
"""Dynamic-op supernets at a chosen subnet vs. their static exports.

Run from the repository root::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python \
        benchmarks/dynamic_supernet_vs_static.py --spaces bignas autoslim \
        --random 2 --batch-sizes 1 16 --repeats 30 --control

For each space (``bignas``: the AttentiveMobileNetV3 classifier of
``configs/nas/mmcls/bignas/attentive_mobilenet_supernet_32xb64_in1k.py``;
``autoslim``: MobileNetV2 1.5x made dynamic by the channel mutator of
``configs/pruning/mmcls/autoslim/autoslim_mbv2_1.5x_supernet_8xb256_in1k.py``)
it builds the algorithm with random weights, sets ``--random`` random
subnets in turn, exports each with ``export_static_model``, checks that
both give the same logits (<= 1e-5), and times ``model(x, mode='tensor')``
of the supernet and the static model interleaved in one process
(``torch.inference_mode``, rotating order), at each batch size. The
headline is the ratio supernet / static of the median latencies; the target
is <= 1.05. ``--control`` times a copy of the static model too (an A/A
test: the noise floor of the machine).

For ``bignas`` it then times the static exports of the smallest and the
largest subnet (each at its own input resolution, 192 and 288, behind its
``InputResizer``) and prints the measured speed ratio beside the FLOPs
ratio.
"""
import argparse
import copy
import os.path as osp
import sys
from typing import Any, Dict, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import _common as common  # noqa: E402  (sets OMP_WAIT_POLICY before torch)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

CONFIGS = dict(
    bignas=osp.join(common.REPO_ROOT, 'configs', 'nas', 'mmcls', 'bignas',
                    'attentive_mobilenet_supernet_32xb64_in1k.py'),
    autoslim=osp.join(common.REPO_ROOT, 'configs', 'pruning', 'mmcls',
                      'autoslim',
                      'autoslim_mbv2_1.5x_supernet_8xb256_in1k.py'))
TARGET_RATIO = 1.05
PARITY_TOL = 1e-5


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Time dynamic-op supernets at chosen subnets against '
        'their static exports.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        '--spaces', nargs='+', choices=sorted(CONFIGS),
        default=sorted(CONFIGS), help='search spaces to benchmark')
    parser.add_argument(
        '--random', type=int, default=2, help='random subnets per space')
    parser.add_argument(
        '--batch-sizes', type=int, nargs='+', default=[1, 16],
        help='batch sizes to time')
    parser.add_argument(
        '--input-size', type=int, default=224, help='input height/width')
    parser.add_argument(
        '--repeats', type=int, default=30, help='timed rounds')
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed rounds')
    parser.add_argument(
        '--control', action='store_true',
        help='also time a copy of the static model (A/A noise floor)')
    common.add_run_args(parser, seed_help='seed of weights, inputs and '
                        'subnets', bootstrap=True)
    common.add_output_args(parser, TARGET_RATIO, 'a')
    args = parser.parse_args(argv)
    common.require_positive(parser, args,
                            ('repeats', 'input_size', 'threads', 'random'))
    return args


def build(space: str) -> nn.Module:
    """The algorithm of ``space`` (random weights, eval mode)."""
    from mmengine.config import Config

    import mmrazor.models  # noqa: F401
    from mmrazor.registry import MODELS

    cfg = Config.fromfile(CONFIGS[space])
    return MODELS.build(cfg.model).eval()


def _logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x, mode='tensor')


def bench_pair(supernet: nn.Module, static: nn.Module,
               args: argparse.Namespace) -> Dict[str, Any]:
    """Parity, then interleaved timing at every batch size."""
    x = torch.randn(2, 3, args.input_size, args.input_size)
    with torch.inference_mode():
        diff = (_logits(supernet, x) - _logits(static, x)).abs().max()
    result: Dict[str, Any] = dict(max_abs_diff=float(diff),
                                  parity_ok=bool(diff <= PARITY_TOL),
                                  batches={})
    for batch in args.batch_sizes:
        x = torch.randn(batch, 3, args.input_size, args.input_size)
        models = dict(supernet=supernet, static=static)
        if args.control:
            models['static_copy'] = copy.deepcopy(static)
        with torch.inference_mode():
            times = common.time_rounds(
                {k: (lambda m=m, x=x: _logits(m, x))
                 for k, m in models.items()}, args.repeats, args.warmup)
        entry = dict(
            stats={k: common.summarize(**v) for k, v in times.items()},
            ratios=common.compare(times['supernet'], times['static'],
                                  args.bootstrap, args.seed, TARGET_RATIO))
        if args.control:
            entry['control'] = common.compare(
                times['static_copy'], times['static'], args.bootstrap,
                args.seed, TARGET_RATIO)
        result['batches'][batch] = entry
    return result


def min_vs_max(algorithm: nn.Module,
               args: argparse.Namespace) -> Dict[str, Any]:
    """Static smallest vs largest subnet: latency ratio and FLOPs ratio."""
    from mmrazor.models import ResourceEstimator, export_static_model

    estimator = ResourceEstimator(
        input_shape=(1, 3, args.input_size, args.input_size))
    statics, flops = {}, {}
    for kind in ('min', 'max'):
        algorithm.mutator.set_choices(algorithm.mutator.sample_choices(kind))
        statics[kind] = export_static_model(algorithm.architecture).eval()
        flops[kind] = estimator.estimate(statics[kind])['flops']
    result = dict(flops_mflops=flops,
                  flops_ratio=flops['max'] / flops['min'], batches={})
    for batch in args.batch_sizes:
        x = torch.randn(batch, 3, args.input_size, args.input_size)
        with torch.inference_mode():
            times = common.time_rounds(
                {k: (lambda m=m, x=x: _logits(m, x))
                 for k, m in statics.items()}, args.repeats, args.warmup)
        ratios = common.compare(times['max'], times['min'], args.bootstrap,
                                args.seed, float('inf'))
        result['batches'][batch] = dict(
            stats={k: common.summarize(**v) for k, v in times.items()},
            speed_ratio=ratios['ratio_median'],
            speed_ratio_bootstrap95=ratios['ratio_bootstrap95'])
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmark and print the tables; 1 on a parity failure."""
    args = parse_args(argv)
    common.check_new_path(args.json)
    common.setup_torch(args.threads, args.seed)
    from mmrazor.models import export_static_model

    meta = common.machine_meta(load_avg=True)
    print(common.machine_line(meta))
    report: Dict[str, Any] = dict(meta=meta, args=vars(args), spaces={})
    failed = above = False
    for space in args.spaces:
        algorithm = build(space)
        mutator = algorithm.mutator
        runs = []
        for i in range(args.random):
            choices = mutator.sample_choices()
            mutator.set_choices(choices)
            static = export_static_model(algorithm.architecture).eval()
            run = bench_pair(algorithm.architecture, static, args)
            runs.append(run)
            failed |= not run['parity_ok']
            print(f'\n{space} random subnet {i}: parity max abs diff '
                  f'{run["max_abs_diff"]:.2e}')
            print(f'  {"batch":>5} {"model":<12} {common.STATS_HEADER}')
            for batch, entry in run['batches'].items():
                for name, stats in entry['stats'].items():
                    print(f'  {batch:>5} {name:<12} '
                          f'{common.stats_cells(stats)}')
                lines = common.ratio_lines('supernet/static',
                                           entry['ratios'], TARGET_RATIO)
                if 'control' in entry:
                    lines += common.ratio_lines('static copy/static',
                                                entry['control'], None)
                print('\n'.join(f'  batch {batch}{line}' for line in lines))
                above |= not entry['ratios']['within_target']
        report['spaces'][space] = dict(subnets=runs)
        if space == 'bignas':
            mm = min_vs_max(algorithm, args)
            report['spaces'][space]['min_vs_max'] = mm
            print(f'\nbignas static largest vs smallest subnet: FLOPs '
                  f'{mm["flops_mflops"]["max"]:.1f} / '
                  f'{mm["flops_mflops"]["min"]:.1f} MFLOPs = '
                  f'{mm["flops_ratio"]:.2f}x')
            for batch, entry in mm['batches'].items():
                ci = entry['speed_ratio_bootstrap95']
                ci_text = f' [{ci[0]:.2f}-{ci[1]:.2f}]' if ci else ''
                print(f'  batch {batch}: measured latency ratio '
                      f'{entry["speed_ratio"]:.2f}x{ci_text} beside the '
                      f'FLOPs ratio {mm["flops_ratio"]:.2f}x')
    if args.json:
        common.write_json(args.json, report, announce=True)
    if failed:
        print('PARITY FAILURE')
        return 1
    return 1 if (above and args.strict) else 0


if __name__ == '__main__':
    sys.exit(main())
