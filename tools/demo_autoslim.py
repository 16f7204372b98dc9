# Copyright (c) OpenMMLab. All rights reserved.
"""AutoSlim on scikit-learn's digits, on the CPU, in one command.

1. train the slimmable supernet (MobileNetV2 at widen 0.5, 32x32 digits, 25
   channel units at 1/4 ... 4/4 of their channels;
   ``configs/pruning/mmcls/autoslim/demo/autoslim_mbv2_supernet_digits.py``);
2. greedy search from the full width to three FLOPs targets
   (``autoslim_mbv2_search_digits.py``);
3. for each found subnet, the uniform width with the most FLOPs that are
   not above its FLOPs (every unit at the same ratio of its channels,
   rounded as the units round);
4. retrain from scratch, with the same data, epochs and schedule, the three
   found subnets as one slimmable network and the three uniform widths as
   another (``autoslim_mbv2_slimmable_digits.py``; a batch norm per width);
5. report the val top-1 of every width: found against uniform.

Usage::

    OMP_WAIT_POLICY=PASSIVE python tools/demo_autoslim.py [--work-dir DIR]

``--quick`` runs every stage for one epoch on a few images (a smoke test;
its accuracies mean nothing). Every run writes into a new timestamped
folder of ``--work-dir``: the stages' work dirs, the subnet yamls and
``report.json``.
"""
import argparse
import copy
import os
import os.path as osp
import sys
import time
from typing import Any, Callable, Dict, List, Optional

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402
from demo_distill import run_with_progress as run  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmrazor  # noqa: E402,F401
from mmrazor.registry import MODELS, TASK_UTILS  # noqa: E402
from mmrazor.third_party_warnings import quiet_third_party_logs  # noqa: E402
from mmrazor.utils import register_all_modules  # noqa: E402
from mmrazor.utils.atomic_file import (
    atomic_dump_json,  # noqa: E402
    atomic_dump_yaml,  # noqa: E402
)
from mmrazor.utils.channels import choice_to_channels  # noqa: E402
from mmrazor.utils.dict_file import read_data_file  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_DIR = osp.join(REPO, 'configs', 'pruning', 'mmcls', 'autoslim', 'demo')
SUMMARY = 'greedy_search_summary.json'


def demo_cfg(name: str, work_dir: str, seed: int) -> Config:
    cfg = Config.fromfile(osp.join(DEMO_DIR, name))
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    cfg.log_level = 'WARNING'
    return cfg


def set_epochs(cfg: Config, epochs: int) -> None:
    """Train ``epochs`` epochs; the warm-up epoch and cosine decay of the
    demo schedules follow."""
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = epochs
    for sched in cfg.param_scheduler:
        if sched.type == 'CosineAnnealingLR':
            sched.T_max = max(1, epochs - 1)
            sched.end = max(epochs, 2)


def shrink(cfg: Config, images: int) -> None:
    """Train (and validate) on the first ``images`` images only."""
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.indices = images


def uniform_subnet(template: Dict[str, Dict], ratio: float
                   ) -> Dict[str, Dict]:
    """``template`` (a units-format subnet) with every unit at ``ratio`` of
    its channels, rounded as the unit rounds ratios."""
    subnet = {}
    for name, unit in template.items():
        args = dict(unit['init_args'])
        number = choice_to_channels(
            ratio, args['num_channels'], 'ratio', name,
            args.get('divisor', 1), args.get('min_value', 1),
            args.get('min_ratio', 0.9))
        args['choice_mode'] = 'number'
        subnet[name] = dict(init_args=args, choice=number)
    return subnet


def flops_counter(cfg: Config) -> Callable[[Dict[str, Dict]], float]:
    """MFLOPs at 32x32 of a units-format subnet of the digits MobileNetV2
    (units as the search's ``ChannelAnalyzer`` names them)."""
    arch = MODELS.build(cfg.supernet)
    mutator = MODELS.build(dict(
        type='mmrazor.ChannelMutator',
        channel_unit_cfg=dict(type='mmrazor.SequentialMutableChannelUnit'),
        parse_cfg=dict(type='mmrazor.ChannelAnalyzer',
                       demo_input=(1, 3, 32, 32),
                       tracer_type='BackwardTracer')))
    mutator.prepare_from_supernet(arch)
    estimator = TASK_UTILS.build(dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 32, 32),
        units=dict(flops='M', params='M')))

    def count(subnet: Dict[str, Dict]) -> float:
        widths = {}
        for unit in mutator.units:
            if unit.name not in subnet:
                raise KeyError(f'unit {unit.name!r} is not in the subnet '
                               f'(units: {sorted(subnet)})')
            cfg_unit = subnet[unit.name]
            args = cfg_unit['init_args']
            widths[unit.name] = choice_to_channels(
                cfg_unit['choice'], unit.num_channels,
                args.get('choice_mode', 'number'), unit.name,
                args.get('divisor', 1), args.get('min_value', 1),
                args.get('min_ratio', 0.9))
        mutator.set_choices(widths)
        return float(estimator.estimate(arch)['flops'])

    return count


def widest_uniform(template: Dict[str, Dict], budget: float,
                   count: Callable[[Dict[str, Dict]], float]
                   ) -> Dict[str, Any]:
    """The uniform ratio (on a 1/128 grid) with the most FLOPs not above
    ``budget``; its subnet, ratio and FLOPs."""
    best = None
    lo, hi = 1, 128  # ratios k / 128; FLOPs grow with k
    while lo <= hi:
        mid = (lo + hi) // 2
        subnet = uniform_subnet(template, mid / 128)
        flops = count(subnet)
        if flops <= budget:
            best = dict(subnet=subnet, ratio=mid / 128, flops=flops)
            lo = mid + 1
        else:
            hi = mid - 1
    if best is None:
        raise ValueError(f'no uniform width has at most {budget:.3f} MFLOPs')
    return best


def subnet_accuracies(runner: Runner, count: int) -> List[float]:
    hub = runner.message_hub
    return [float(hub.get_scalar(f'val/subnet_{i}.accuracy/top1').current())
            for i in range(count)]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/autoslim_digits_demo',
                        help='parent folder of the run (a new timestamped '
                        'folder is made inside)')
    parser.add_argument('--supernet-epochs', type=int, default=None,
                        help="default: the supernet config's (10)")
    parser.add_argument('--retrain-epochs', type=int, default=None,
                        help="default: the slimmable config's (8)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--quick', action='store_true',
                        help='1 epoch per stage on 64 images: checks the '
                        'pipeline')
    args = parser.parse_args(argv)
    if args.quick:
        args.supernet_epochs = args.supernet_epochs or 1
        args.retrain_epochs = args.retrain_epochs or 1
    for name in ('supernet_epochs', 'retrain_epochs'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, '
                         f'got {value}')
    return args


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    register_all_modules(False)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    run_dir = osp.join(args.work_dir, time.strftime('%Y%m%d_%H%M%S'))
    if osp.exists(run_dir):
        sys.exit(f'{run_dir} already exists; wait a second and run again')
    start = time.perf_counter()
    times = {}

    cfg = demo_cfg('autoslim_mbv2_supernet_digits.py',
                   osp.join(run_dir, 'supernet'), args.seed)
    set_epochs(cfg, args.supernet_epochs or cfg.train_cfg.max_epochs)
    if args.quick:
        shrink(cfg, 64)
        cfg.val_cfg.calibrate_sample_num = 64
    epochs = cfg.train_cfg.max_epochs
    print(f'[1/4] AutoSlim supernet, {epochs} epochs (val top-1 of the '
          'largest and smallest widths)', flush=True)
    runner = run(cfg, 'supernet')
    hub = runner.message_hub
    supernet = dict(
        epochs=epochs,
        max_accuracy=float(
            hub.get_scalar('val/max_subnet.accuracy/top1').current()),
        min_accuracy=float(
            hub.get_scalar('val/min_subnet.accuracy/top1').current()))
    checkpoint = osp.join(cfg.work_dir, f'epoch_{epochs}.pth')
    times['supernet'] = time.perf_counter() - start

    cfg = demo_cfg('autoslim_mbv2_search_digits.py',
                   osp.join(run_dir, 'search'), args.seed)
    cfg.load_from = checkpoint
    if args.quick:  # a short walk, scored on 32 images, no recalibration
        cfg.train_cfg.dataloader.dataset.indices = 32
        cfg.train_cfg.calibrate_sample_num = 0
        cfg.train_cfg.target_flops = (2.1, 2.0, 1.9)
    targets = cfg.train_cfg.target_flops
    print(f'[2/4] Greedy search to {", ".join(f"{t:g}" for t in targets)} '
          'MFLOPs', flush=True)
    t0 = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    quiet_third_party_logs(runner.logger)
    runner.train()
    summary = read_data_file(osp.join(cfg.work_dir, SUMMARY),
                             'the greedy search summary')
    times['search'] = time.perf_counter() - t0
    for t in summary['targets']:
        print(f'  target {t["target"]:g}: {t["flops"]:.3f} MFLOPs, search '
              f'score {t["score"]:.2f}% ({osp.basename(t["subnet"])})')

    sub = demo_cfg('autoslim_mbv2_slimmable_digits.py', '', args.seed)
    set_epochs(sub, args.retrain_epochs or sub.train_cfg.max_epochs)
    if args.quick:
        shrink(sub, 64)
    count = flops_counter(sub)
    found = [read_data_file(t['subnet'], 'subnet') for t in summary['targets']]
    print('[3/4] Uniform widths with no more FLOPs than each found subnet:')
    rows = []
    uniform_paths = []
    for t, subnet in zip(summary['targets'], found):
        flops = count(subnet)
        uni = widest_uniform(subnet, flops, count)
        path = osp.join(run_dir, f'uniform_flops-{t["target"]:g}M.yaml')
        atomic_dump_yaml(uni['subnet'], path)
        uniform_paths.append(path)
        rows.append(dict(target=t['target'], found_subnet=t['subnet'],
                         found_mflops=flops, search_score=t['score'],
                         uniform_subnet=path, uniform_ratio=uni['ratio'],
                         uniform_mflops=uni['flops']))
        print(f'  target {t["target"]:g}: found {flops:.3f} MFLOPs, uniform '
              f'ratio {uni["ratio"]:.3f} at {uni["flops"]:.3f} MFLOPs')

    epochs = sub.train_cfg.max_epochs
    val_images = sub.val_dataloader.dataset.get('indices') or 360
    print(f'[4/4] Retraining from scratch as slimmable networks, {epochs} '
          'epochs each: the found subnets, then the uniform widths',
          flush=True)
    t0 = time.perf_counter()
    for name, paths in (('found', [t['subnet'] for t in summary['targets']]),
                        ('uniform', uniform_paths)):
        cfg = copy.deepcopy(sub)
        cfg.work_dir = osp.join(run_dir, f'retrain_{name}')
        cfg.model.channel_cfg_paths = paths
        runner = run(cfg, f'{name:7s}')
        for row, acc in zip(rows, subnet_accuracies(runner, len(paths))):
            row[f'{name}_accuracy'] = acc
    times['retrain'] = time.perf_counter() - t0
    total = time.perf_counter() - start

    for row in rows:
        row['gain'] = row['found_accuracy'] - row['uniform_accuracy']
    report = dict(
        supernet=supernet, search=dict(
            steps=summary['steps'], scored=summary['scored'],
            full_mflops=summary['start']['flops']),
        retrain_epochs=epochs, val_images=val_images, seed=args.seed,
        quick=args.quick, rows=rows,
        mean_gain=sum(r['gain'] for r in rows) / len(rows),
        times_s=times, wall_time_s=total, run_dir=run_dir)
    atomic_dump_json(report, osp.join(run_dir, 'report.json'), indent=2)

    print('\n==== AutoSlim on digits: report ====')
    print(f'Supernet ({supernet["epochs"]} epochs): largest width '
          f'{supernet["max_accuracy"]:.2f}%, smallest '
          f'{supernet["min_accuracy"]:.2f}% val top-1')
    print(f'Retrained {epochs} epochs, val top-1 ({val_images} images):')
    print('  target   found MFLOPs  found %   uniform ratio  uniform MFLOPs'
          '  uniform %   gain')
    for r in rows:
        print(f'  {r["target"]:>6g}   {r["found_mflops"]:12.3f}  '
              f'{r["found_accuracy"]:7.2f}   {r["uniform_ratio"]:13.3f}  '
              f'{r["uniform_mflops"]:14.3f}  {r["uniform_accuracy"]:9.2f}'
              f'  {r["gain"]:+6.2f}')
    print(f'Mean gain of the found widths: {report["mean_gain"]:+.2f} points')
    print(f'Report:    {osp.join(run_dir, "report.json")}')
    print(f'Wall time: supernet {times["supernet"]:.0f} s, search '
          f'{times["search"]:.0f} s, retraining {times["retrain"]:.0f} s, '
          f'total {total:.0f} s')
    return report


if __name__ == '__main__':
    main()
