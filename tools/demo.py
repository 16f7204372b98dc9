# Copyright (c) OpenMMLab. All rights reserved.
"""The whole SPOS pipeline on scikit-learn's digits, on the CPU, in minutes.

1. train the SPOS ShuffleNetV2 supernet (a random single path per step);
2. search it with the evolution search loop under a FLOPs budget;
3. retrain the best subnet alone and evaluate it;
4. export it to a static model and report its FLOPs, params, measured
   latency and accuracy, beside the search's first random population.

Usage::

    OMP_WAIT_POLICY=PASSIVE python tools/demo.py [--work-dir DIR]

Every run writes into a new timestamped folder of ``--work-dir``, and its
report (the figures it prints, with the wall time of each stage) into
``report.json`` there.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time
from typing import Dict, List, Optional

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmrazor  # noqa: E402,F401
from mmrazor.models import export_static_model  # noqa: E402
from mmrazor.registry import TASK_UTILS  # noqa: E402
from mmrazor.third_party_warnings import quiet_third_party_logs  # noqa: E402
from mmrazor.utils import register_all_modules  # noqa: E402
from mmrazor.utils.atomic_file import atomic_dump_json  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_DIR = osp.join(REPO, 'configs', 'nas', 'mmcls', 'spos', 'demo')


class ProgressHook(Hook):
    """Prints one line per epoch of a stage (the runners log warnings only).
    """

    priority = 'VERY_LOW'

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._start = time.perf_counter()
        self.last_accuracies: List[float] = []

    def after_val_epoch(self, runner, metrics: Optional[Dict] = None) -> None:
        accs = [float(v) for k, v in (metrics or {}).items()
                if k.endswith('accuracy/top1')]
        self.last_accuracies = accs
        what = ('val top-1' if len(accs) == 1 else
                f'val top-1 of {len(accs)} random paths (BN recalibrated)')
        shown = ', '.join(f'{a:.2f}%' for a in accs)
        elapsed = time.perf_counter() - self._start
        print(f'  {self.stage} epoch {runner.epoch}/{runner.max_epochs}: '
              f'{what} {shown}  ({elapsed:.0f} s)', flush=True)

    def after_train_epoch(self, runner) -> None:
        loop = runner.train_loop
        if not hasattr(loop, 'records'):
            return
        best = loop.best
        elapsed = time.perf_counter() - self._start
        print(f'  search epoch {loop.epoch + 1}/{loop.max_epochs}: best '
              f'{best["score"]:.2f}% at {best["resources"]["flops"]:.3f} '
              f'MFLOPs, {len(loop.records)} subnets evaluated  '
              f'({elapsed:.0f} s)', flush=True)


def demo_cfg(stage: str) -> Config:
    """The demo config of a stage: 'supernet', 'search' or 'subnet'."""
    return Config.fromfile(
        osp.join(DEMO_DIR, f'spos_shufflenet_{stage}_digits.py'))


def with_epochs(cfg: Config, epochs: int) -> Config:
    """Set the number of epochs and stretch the cosine schedule to it."""
    cfg.train_cfg.max_epochs = epochs
    for sched in cfg.param_scheduler:
        if sched.type == 'CosineAnnealingLR':
            sched.T_max = max(1, epochs - 1)
            sched.end = epochs
    return cfg


def run_stage(cfg: Config, stage: str) -> Runner:
    """Train ``cfg`` with a progress line per epoch; return the runner.

    The runner's ``progress`` attribute is its :class:`ProgressHook`.
    """
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    quiet_third_party_logs(runner.logger)
    runner.progress = ProgressHook(stage)
    runner.register_hook(runner.progress)
    runner.train()
    return runner


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/spos_digits_demo',
                        help='parent folder of the run (a new timestamped '
                        'folder is made inside)')
    parser.add_argument('--supernet-epochs', type=int, default=20)
    parser.add_argument('--search-epochs', type=int, default=3)
    parser.add_argument('--subnet-epochs', type=int, default=20)
    parser.add_argument('--flops-budget', type=float, default=1.62,
                        help='MFLOPs at 32x32 (the subnets: 1.55-1.80)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main() -> Dict:
    args = parse_args()
    register_all_modules(False)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    run_dir = osp.join(args.work_dir, time.strftime('%Y%m%d_%H%M%S'))
    if osp.exists(run_dir):
        sys.exit(f'{run_dir} already exists; wait a second and run again')
    start = time.perf_counter()

    print(f'[1/3] Training the SPOS supernet ({args.supernet_epochs} epochs)')
    cfg = with_epochs(demo_cfg('supernet'), args.supernet_epochs)
    cfg.work_dir = osp.join(run_dir, 'supernet')
    cfg.randomness = dict(seed=args.seed)
    runner = run_stage(cfg, 'supernet')
    supernet_paths = runner.progress.last_accuracies
    supernet_ckpt = osp.join(cfg.work_dir,
                             f'epoch_{args.supernet_epochs}.pth')
    t_supernet = time.perf_counter() - start

    print(f'[2/3] Evolution search under {args.flops_budget} MFLOPs '
          f'({args.search_epochs} generations)')
    cfg = demo_cfg('search')
    cfg.train_cfg.max_epochs = args.search_epochs
    cfg.train_cfg.constraints_range = dict(flops=(0., args.flops_budget))
    cfg.work_dir = osp.join(run_dir, 'search')
    cfg.load_from = supernet_ckpt
    cfg.randomness = dict(seed=args.seed)
    search = run_stage(cfg, 'search').train_loop
    first = [r['score'] for r in search.records.values() if r['epoch'] == 0]
    best = search.best
    subnet_yaml = osp.join(cfg.work_dir, 'best_fix_subnet.yaml')
    t_search = time.perf_counter() - start - t_supernet

    print(f'[3/3] Retraining the best subnet ({args.subnet_epochs} epochs)')
    cfg = with_epochs(demo_cfg('subnet'), args.subnet_epochs)
    cfg.model.fix_subnet = subnet_yaml
    cfg.work_dir = osp.join(run_dir, 'subnet')
    cfg.randomness = dict(seed=args.seed)
    runner = run_stage(cfg, 'subnet')
    accuracy = runner.message_hub.get_scalar('val/accuracy/top1').current()
    subnet_ckpt = osp.join(cfg.work_dir, f'epoch_{args.subnet_epochs}.pth')
    t_subnet = time.perf_counter() - start - t_supernet - t_search

    static = export_static_model(runner.model).eval()
    estimator = TASK_UTILS.build(
        dict(
            type='mmrazor.ResourceEstimator',
            input_shape=(1, 3, 32, 32),
            latency_cfg=dict(max_iter=200, num_warmup=20)))
    resources = estimator.estimate(static)
    total = time.perf_counter() - start

    report = dict(
        subnet={k: v for k, v in sorted(best['choices'].items())},
        flops_m=resources['flops'],
        params_m=resources['params'],
        latency_ms=resources['latency'],
        accuracy=float(accuracy),
        search_best_score=best['score'],
        first_population_median=statistics.median(first),
        first_population_size=len(first),
        evaluated=len(search.records),
        subnet_yaml=subnet_yaml,
        checkpoint=subnet_ckpt,
        pareto_plot=osp.join(run_dir, 'search', 'search_pareto.png'),
        supernet_epochs=args.supernet_epochs,
        search_epochs=args.search_epochs,
        subnet_epochs=args.subnet_epochs,
        flops_budget_m=args.flops_budget,
        seed=args.seed,
        supernet_path_accuracies=supernet_paths,
        supernet_time_s=t_supernet,
        search_time_s=t_search,
        subnet_time_s=t_subnet,
        export_time_s=total - t_supernet - t_search - t_subnet,
        wall_time_s=total)
    atomic_dump_json(report, osp.join(run_dir, 'report.json'), indent=2)
    print('\n==== SPOS on digits: report ====')
    print('Subnet (search group: choice):')
    for key, choice in report['subnet'].items():
        print(f'  {key}: {choice}')
    print(f'FLOPs {resources["flops"]:.3f} M (budget {args.flops_budget} M), '
          f'params {resources["params"]:.3f} M, latency '
          f'{resources["latency"]:.2f} ms (batch 1, 32x32, CPU)')
    print(f'Search: median top-1 of the first random population '
          f'({len(first)} subnets, supernet weights + BN recalibration): '
          f'{report["first_population_median"]:.2f}%; best found: '
          f'{best["score"]:.2f}% ({len(search.records)} subnets evaluated)')
    print(f'Retrained subnet: val top-1 {report["accuracy"]:.2f}% '
          f'after {args.subnet_epochs} epochs')
    print(f'Subnet yaml:  {subnet_yaml}')
    print(f'Checkpoint:   {subnet_ckpt}')
    print(f'Pareto plot:  {report["pareto_plot"]}')
    print(f'Report:       {osp.join(run_dir, "report.json")}')
    print(f'Wall time: supernet {t_supernet:.0f} s, search {t_search:.0f} s, '
          f'retraining {t_subnet:.0f} s, export and latency '
          f'{report["export_time_s"]:.0f} s; total {total:.0f} s')
    return report


if __name__ == '__main__':
    main()
