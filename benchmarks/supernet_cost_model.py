# Copyright (c) OpenMMLab. All rights reserved.
"""Compute of a supernet training run from its published schedule.

For the SPOS ShuffleNetV2 and BigNAS AttentiveMobileNetV3 supernet configs,
the script reads the schedule (epochs, batch per GPU, GPUs of the config's
name), counts the forward multiply-adds of the subnets one training step
runs (``ResourceEstimator``, 224x224 input; BigNAS subnets at their sampled
resolution) and prints:

- multiply-adds per image of one training step: SPOS runs one random path;
  BigNAS the largest, the smallest and ``num_random_samples`` random
  subnets (the sandwich rule; the in-place distillation reuses the
  largest subnet's outputs). A random subnet counts as the mean of
  ``--samples`` draws.
- the run's total: 3x the forward (a backward costs about twice a forward)
  x images per epoch (ImageNet-1k: 1,281,167) x epochs;
- the same run on ``--gpus`` GPUs at the config's batch per GPU: global
  batch, the learning-rate factor ``--auto-scale-lr`` applies, iterations
  per epoch and in all, and each GPU's share of the compute; with
  ``--rate`` (sustained multiply-adds per second of one GPU, which you
  measure on your cards), the hours.

Usage::

    python benchmarks/supernet_cost_model.py [--gpus 64] [--samples 100]
"""
import argparse
import math
import os.path as osp
import random
import re
import sys
import time
from typing import Any, Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from _common import REPO_ROOT, add_output_args, machine_meta  # noqa: E402

IMAGENET_TRAIN = 1281167
NAS = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls')
CONFIGS = dict(
    spos=osp.join(NAS, 'spos', 'spos_shufflenet_supernet_8xb128_in1k.py'),
    bignas=osp.join(NAS, 'bignas',
                    'attentive_mobilenet_supernet_32xb64_in1k.py'))


def _gpus_in_name(path: str) -> int:
    match = re.search(r'_(\d+)xb(\d+)_', osp.basename(path))
    if match is None:
        raise ValueError(f'{path}: no NxbM (GPUs x batch) in the name')
    return int(match.group(1))


def step_macs(name: str, samples: int, seed: int) -> Dict[str, Any]:
    """Forward multiply-adds (M) per image of one training step of the
    ``name`` supernet (``'spos'`` or ``'bignas'``), and the schedule."""
    from mmengine.config import Config

    import mmrazor  # noqa: F401
    from mmrazor.registry import MODELS, TASK_UTILS

    cfg = Config.fromfile(CONFIGS[name])
    algo = MODELS.build(cfg.model)
    estimator = TASK_UTILS.build(dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 224, 224),
        units=dict(flops='M', params='M')))
    random.seed(seed)

    def macs(kind: str) -> float:
        algo.mutator.set_choices(algo.mutator.sample_choices(kind))
        return float(estimator.estimate(algo.architecture)['flops'])

    rand = [macs('random') for _ in range(samples)]
    mean_random = sum(rand) / len(rand)
    if name == 'spos':
        parts = dict(random_path=mean_random)
        per_step = mean_random
    else:
        k = int(cfg.model.get('num_random_samples', 2))
        parts = dict(max=macs('max'), min=macs('min'),
                     mean_random=mean_random, num_random_samples=k)
        per_step = parts['max'] + parts['min'] + k * mean_random
    return dict(
        config=osp.relpath(CONFIGS[name], REPO_ROOT),
        epochs=int(cfg.train_cfg.max_epochs),
        batch_per_gpu=int(cfg.train_dataloader.batch_size),
        config_gpus=_gpus_in_name(CONFIGS[name]),
        base_batch_size=(cfg.get('auto_scale_lr') or {}).get(
            'base_batch_size'),
        random_min=min(rand), random_max=max(rand), parts=parts,
        forward_mmacs_per_image=per_step)


def plan(m: Dict[str, Any], gpus: int, rate: float) -> Dict[str, Any]:
    """The run's totals on ``gpus`` GPUs (``rate``: sustained
    multiply-adds per second per GPU, 0 if unknown)."""
    total = 3 * m['forward_mmacs_per_image'] * 1e6 * IMAGENET_TRAIN * \
        m['epochs']
    batch = gpus * m['batch_per_gpu']
    iters = math.ceil(IMAGENET_TRAIN / batch)
    out = dict(
        total_macs=total, gpus=gpus, global_batch=batch,
        lr_factor=(batch / m['base_batch_size']
                   if m['base_batch_size'] else None),
        iters_per_epoch=iters, iters=iters * m['epochs'],
        per_gpu_macs=total / gpus)
    if rate > 0:
        out['hours'] = total / gpus / rate / 3600
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--gpus', type=int, default=64)
    parser.add_argument('--samples', type=int, default=100,
                        help='random subnets averaged per supernet')
    parser.add_argument('--rate', type=float, default=0.0,
                        help='sustained multiply-adds per second of one GPU '
                        '(measure it); gives the hours')
    parser.add_argument('--seed', type=int, default=0)
    add_output_args(parser)
    args = parser.parse_args(argv)
    if args.gpus < 1 or args.samples < 1 or args.rate < 0:
        parser.error('--gpus and --samples must be >= 1, --rate >= 0')
    start = time.perf_counter()
    report: Dict[str, Any] = dict(meta=machine_meta(), samples=args.samples)
    lines: List[str] = []
    for name in CONFIGS:
        m = step_macs(name, args.samples, args.seed)
        p = plan(m, args.gpus, args.rate)
        report[name] = dict(m, plan=p)
        parts = ', '.join(
            f'{k} {v:.1f}' if isinstance(v, float) else f'{k} {v}'
            for k, v in m['parts'].items())
        lines += [
            f'{name}: {m["config"]}',
            f'  schedule: {m["epochs"]} epochs, {m["config_gpus"]} GPUs x '
            f'{m["batch_per_gpu"]} images',
            f'  forward per image of one step: '
            f'{m["forward_mmacs_per_image"]:.1f} M multiply-adds ({parts}; '
            f'random subnets {m["random_min"]:.1f}-{m["random_max"]:.1f})',
            f'  training compute: {p["total_macs"] / 1e15:.1f} P '
            'multiply-adds (3x forward x 1,281,167 images x epochs)',
            f'  on {p["gpus"]} GPUs: global batch {p["global_batch"]} ('
            + (f'lr x{p["lr_factor"]:g} with --auto-scale-lr' if
               p['lr_factor'] else 'no auto_scale_lr in the config')
            + '), '
            f'{p["iters_per_epoch"]} iterations an epoch, {p["iters"]} in '
            f'all, {p["per_gpu_macs"] / 1e15:.2f} P multiply-adds per GPU'
            + (f', {p["hours"]:.1f} h at {args.rate:g}/s' if 'hours' in p
               else ''),
        ]
    print('\n'.join(lines))
    print(f'({time.perf_counter() - start:.0f} s)')
    if args.json:
        from mmrazor.utils.atomic_file import atomic_dump_json
        atomic_dump_json(report, args.json, indent=2)
    return report


if __name__ == '__main__':
    main()
