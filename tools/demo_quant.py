# Copyright (c) OpenMMLab. All rights reserved.
"""Int8 quantization on scikit-learn's digits, on the CPU, in minutes.

1. train the float model: the digits distillation demo's ResNet_CIFAR-18
   at width 16 (0.70 M params), with its config and schedule;
2. PTQ (``configs/quantization/demo/ptq_x86_resnet18_cifar16_digits.py``):
   calibrate on training images, evaluate, and write the per-layer
   sensitivity table and plot;
3. a short QAT (``qat_x86_resnet18_cifar16_digits.py``) from the PTQ
   model;
4. deploy both: convert, lower to oneDNN int8 kernels
   (``lower_pt2e_quantized_to_x86``; with ``--compile`` also
   ``torch.compile``), evaluate the deployed int8 models on the val images,
   and measure their size and batch-1 / batch-32 latency against fp32
   eager, interleaved in one process.

Usage::

    OMP_WAIT_POLICY=PASSIVE python tools/demo_quant.py [--work-dir DIR]

Every run writes into a new timestamped folder of ``--work-dir``, and its
report into ``report.json`` there. ``--quick`` runs every step on tiny
settings (for tests; its figures mean nothing).
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402
from demo_distill import demo_cfg, train  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from ptq import sensitivity  # noqa: E402

from mmrazor.third_party_warnings import quiet_third_party_logs  # noqa: E402
from mmrazor.utils import register_all_modules  # noqa: E402
from mmrazor.utils.atomic_file import atomic_dump_json  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUANT_DIR = osp.join(REPO, 'configs', 'quantization', 'demo')
CONFIGS = dict(
    ptq='ptq_x86_resnet18_cifar16_digits.py',
    qat='qat_x86_resnet18_cifar16_digits.py')
QUICK = dict(epochs=1, train_size=128, calib_batches=2, qat_epochs=1,
             sensitivity_batches=1, repeats=3, deploy=['QAT'])


class QATProgressHook(Hook):
    """One line per QAT validation: the quantized and float top-1."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def after_val_epoch(self, runner, metrics: Optional[Dict] = None) -> None:
        m = metrics or {}
        print(f'  QAT epoch {runner.epoch}/{runner.max_epochs}: val top-1 '
              f'{m.get("qat.accuracy/top1", float("nan")):.2f}% '
              f'(fake-quantized), float weights '
              f'{m.get("original.accuracy/top1", float("nan")):.2f}%  '
              f'({time.perf_counter() - self._start:.0f} s)', flush=True)


def quant_cfg(name: str, work_dir: str, args: argparse.Namespace) -> Config:
    """The demo's PTQ or QAT config for this run."""
    cfg = Config.fromfile(osp.join(QUANT_DIR, CONFIGS[name]))
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=args.seed)
    cfg.log_level = 'WARNING'
    cfg.test_cfg.calibrate_steps = args.calib_batches
    if args.train_size is not None:
        cfg.train_dataloader.dataset.indices = args.train_size
        cfg.test_cfg.calibrate_dataloader.dataset.indices = args.train_size
    if name == 'qat':
        cfg.train_cfg.max_epochs = args.qat_epochs
        for sched in cfg.param_scheduler:
            sched.T_max = sched.end = args.qat_epochs
    return cfg


def val_batches(runner: Runner) -> List[Dict]:
    """The preprocessed val images and labels, batch by batch."""
    model = runner.model
    out = []
    for data in runner.test_dataloader:
        data = model.data_preprocessor(data, False)
        labels = torch.cat([s.gt_label.label for s in data['data_samples']])
        out.append(dict(inputs=data['inputs'], labels=labels))
    return out


def top1(call: Callable, batches: List[Dict], batch_size: int) -> float:
    """Top-1 (%) of ``call`` on ``batches``, fed ``batch_size`` images at a
    time (the last chunk zero-padded: lowered graphs have fixed shapes)."""
    inputs = torch.cat([b['inputs'] for b in batches])
    labels = torch.cat([b['labels'] for b in batches])
    preds = []
    with torch.no_grad():
        for i in range(0, len(inputs), batch_size):
            x = inputs[i:i + batch_size]
            pad = batch_size - len(x)
            if pad:
                x = torch.cat([x, x.new_zeros(pad, *x.shape[1:])])
            preds.append(call(x)[:batch_size - pad].argmax(1))
    return float((torch.cat(preds) == labels).float().mean() * 100)


def median_ms(calls: Dict[str, Callable], repeats: int) -> Dict[str, float]:
    """Median wall time (ms) of each call, interleaved in rotating order
    (every call once per round), after 3 warm-up rounds."""
    names = list(calls)
    times: Dict[str, List[float]] = {n: [] for n in names}
    with torch.no_grad():
        for i in range(-3, repeats):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                calls[name]()
                if i >= 0:
                    times[name].append(time.perf_counter() - start)
    return {n: 1000 * statistics.median(t) for n, t in times.items()}


def deploy(models: Dict[str, torch.nn.Module], batches: List[Dict],
           args: argparse.Namespace, arch: torch.nn.Module) -> Dict:
    """Convert, lower (and compile), evaluate and time the int8 models
    against the float model ``arch``."""
    from mmrazor.models.algorithms.quantization import deploy as dep
    from mmrazor.models.algorithms.quantization.sensitivity import sqnr
    arch = arch.eval()
    shape = batches[0]['inputs'].shape[1:]
    fp32 = lambda x: arch(x, mode='tensor')  # noqa: E731
    rows = dict(fp32=dict(
        size=sum(t.numel() * t.element_size()
                 for t in arch.state_dict().values()),
        top1=top1(fp32, batches, 32)))
    calls = {bs: dict(fp32=fp32) for bs in (1, 32)}
    held = torch.cat([b['inputs'] for b in batches])[:64]
    for name, model in models.items():
        converted = model.get_deploy_model()
        row = rows[name] = dict(size=dep.graph_tensor_bytes(converted))
        with torch.no_grad():
            fake = model(held)
            # against its own float weights (QAT changed them)
            row['sqnr_fake_quant_vs_float'] = sqnr(
                model.architecture(held, mode='tensor'), fake)
        for bs in (1, 32):
            x = torch.randn(bs, *shape)
            lowered = dep.lower_to_x86(converted, (x, ))
            calls[bs][f'{name} lowered'] = lowered
            if bs == 32:
                row['top1'] = top1(lowered, batches, 32)
                with torch.no_grad():
                    row['sqnr_lowered_vs_fake_quant'] = sqnr(
                        fake[:32], lowered(held[:32]))
            if args.compile:
                calls[bs][f'{name} compiled'] = dep.compile_int8(
                    converted, (x, ))
        print(f'  {name}: deployed int8 val top-1 {row["top1"]:.2f}%, '
              f'{row["size"] / 1024:.0f} KB', flush=True)
    latency = {}
    for bs, fns in calls.items():
        x = torch.randn(bs, *shape)
        latency[bs] = median_ms(
            {k: (lambda f=f, x=x: f(x)) for k, f in fns.items()},
            args.repeats)
    return dict(rows=rows, latency=latency)


def print_report(report: Dict) -> None:
    rows, lat = report['deploy']['rows'], report['deploy']['latency']
    acc = report['accuracy']
    print('\n==== Int8 quantization on digits: report ====')
    print('Val top-1 of the runs: ' + ', '.join(
        f'{k} {v:.2f}%' for k, v in acc.items()) + ' (PTQ and QAT: '
        'fake-quantized)')
    print('| model | val top-1 (fake-quant) | val top-1 (deployed) | size '
          '| batch 1 | batch 32 |')
    print('|---|---:|---:|---:|---:|---:|')
    for name in lat[1]:
        base = name.split(' ')[0]
        fq = acc.get(base)
        fq_text = f'{fq:.2f}%' if fq is not None and base != 'fp32' else '-'
        speed = {
            bs: f'{lat[bs][name]:.2f} ms '
            f'({lat[bs]["fp32"] / lat[bs][name]:.2f}x)'
            for bs in (1, 32)
        }
        print(f'| {name if base != "fp32" else "fp32 eager"} | {fq_text} | '
              f'{rows[base]["top1"]:.2f}% | {rows[base]["size"] / 1024:.0f} '
              f'KB | {speed[1]} | {speed[32]} |')
    for name in report['args']['deploy']:
        change = rows[name]['top1'] - rows['fp32']['top1']
        faster = lat[1]['fp32'] / lat[1][f'{name} lowered']
        print(f'{name} int8 deployed: {change:+.2f} points of top-1 against '
              f'fp32 (target >= -1), {faster:.2f}x fp32 eager at batch 1 '
              f'(target > 1); logits SQNR: fake-quantized vs its float '
              f'weights {rows[name]["sqnr_fake_quant_vs_float"]:.1f} dB, '
              f'lowered vs fake-quantized '
              f'{rows[name]["sqnr_lowered_vs_fake_quant"]:.1f} dB')
    print(f'Sensitivity: {report["sensitivity_plot"]}')
    print(f'Report:      {report["report"]}')
    print(f'Wall time: {report["wall_time_s"]:.0f} s')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/quant_digits_demo',
                        help='parent folder of the run (a new timestamped '
                        'folder is made inside)')
    parser.add_argument('--epochs', type=int, default=10,
                        help='epochs of the float model')
    parser.add_argument('--qat-epochs', type=int, default=2)
    parser.add_argument('--calib-batches', type=int, default=16,
                        help='PTQ calibration batches of 64 images')
    parser.add_argument('--sensitivity-batches', type=int, default=2)
    parser.add_argument('--train-size', type=int, default=None,
                        help='train and calibrate on the first N training '
                        'images only (default: all 1437)')
    parser.add_argument('--repeats', type=int, default=50,
                        help='timed rounds per batch size')
    parser.add_argument('--deploy', nargs='+', choices=['PTQ', 'QAT'],
                        default=['PTQ', 'QAT'],
                        help='the int8 models to deploy and time (each '
                        'conversion costs torchao 15-30 s of pattern '
                        'exports)')
    parser.add_argument('--compile', action='store_true',
                        help='also time torch.compile int8 (a compilation '
                        'per model and batch size: minutes on 2 cores)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--quick', action='store_true',
                        help='tiny settings for tests: ' + ', '.join(
                            f'{k}={v}' for k, v in QUICK.items()))
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    for name in ('epochs', 'qat_epochs', 'calib_batches',
                 'sensitivity_batches', 'train_size', 'repeats'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, '
                         f'got {value}')
    return args


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    register_all_modules(False)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    run_dir = osp.join(args.work_dir, time.strftime('%Y%m%d_%H%M%S'))
    if osp.exists(run_dir):
        sys.exit(f'{run_dir} already exists; wait a second and run again')
    start = time.perf_counter()

    print(f'[1/4] Training the float model, ResNet_CIFAR-18 at width 16 '
          f'({args.epochs} epochs)', flush=True)
    cfg = demo_cfg('teacher', args.epochs, args.seed,
                   osp.join(run_dir, 'float'), args.train_size)
    accuracy = dict(fp32=train(cfg, 'float')[0])  # (final, per epoch)
    float_ckpt = osp.join(cfg.work_dir, f'epoch_{args.epochs}.pth')

    print(f'[2/4] PTQ: calibrating on {args.calib_batches} batches, '
          'evaluating, per-layer sensitivity', flush=True)
    cfg = quant_cfg('ptq', osp.join(run_dir, 'ptq'), args)
    cfg.model.float_checkpoint = float_ckpt
    ptq = Runner.from_cfg(cfg)
    quiet_third_party_logs(ptq.logger)
    accuracy['PTQ'] = float(ptq.test()['accuracy/top1'])
    print(f'  PTQ: val top-1 {accuracy["PTQ"]:.2f}% (fake-quantized)',
          flush=True)
    sensitivity(ptq, args.sensitivity_batches, cfg.work_dir)

    print(f'[3/4] QAT from the PTQ model ({args.qat_epochs} epochs)',
          flush=True)
    cfg = quant_cfg('qat', osp.join(run_dir, 'qat'), args)
    cfg.load_from = osp.join(run_dir, 'ptq', 'model_ptq.pth')
    qat = Runner.from_cfg(cfg)
    quiet_third_party_logs(qat.logger)
    qat.register_hook(QATProgressHook())
    qat.train()
    accuracy['QAT'] = float(
        qat.message_hub.get_scalar('val/qat.accuracy/top1').current())

    print('[4/4] Deploying both as x86 int8 and timing them', flush=True)
    batches = val_batches(ptq)
    quantized = dict(PTQ=ptq.model, QAT=qat.model.eval())
    deployed = deploy({k: quantized[k] for k in args.deploy}, batches,
                      args, ptq.model.architecture)
    report = dict(
        args=vars(args), accuracy=accuracy, deploy=deployed,
        float_checkpoint=float_ckpt,
        sensitivity_table=osp.join(run_dir, 'ptq', 'sensitivity.md'),
        sensitivity_plot=osp.join(run_dir, 'ptq', 'sensitivity.png'),
        report=osp.join(run_dir, 'report.json'),
        wall_time_s=time.perf_counter() - start)
    atomic_dump_json(report, report['report'], indent=2)
    print_report(report)
    return report


if __name__ == '__main__':
    main()
