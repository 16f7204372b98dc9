# Copyright (c) OpenMMLab. All rights reserved.
"""Knowledge distillation on scikit-learn's digits, on the CPU, in minutes.

1. train the teacher once (mmcls ResNet_CIFAR-18 at width 16, 0.70 M
   params);
2. for each seed, train the student (SimpleConvNet, 5.5 k params) alone
   with cross-entropy, then the same student with the same seed, data and
   epochs distilled from the teacher's logits (0.1 CE + 0.9 KD, tau 4);
3. report the teacher's accuracy, both students' accuracy per seed, their
   means and standard deviations, and the gain; plot the val top-1 of every
   epoch, student alone against distilled (``accuracy_per_epoch.png``).

Usage::

    OMP_WAIT_POLICY=PASSIVE python tools/demo_distill.py [--work-dir DIR]

Every run writes into a new timestamped folder of ``--work-dir``, and its
report into ``report.json`` there. The accuracy of a run is its val top-1
after its last epoch.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time
from typing import Dict, List, Optional, Tuple

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmrazor  # noqa: E402,F401
from mmrazor.third_party_warnings import quiet_third_party_logs  # noqa: E402
from mmrazor.utils import register_all_modules  # noqa: E402
from mmrazor.utils.atomic_file import atomic_dump_json, atomic_open  # noqa: E402,E501
from mmrazor.utils.checkpoint import load_from_local  # noqa: E402
from mmrazor.utils.model_wrappers import unwrap_model  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_DIR = osp.join(REPO, 'configs', 'distill', 'mmcls', 'kd', 'digits')
CONFIGS = dict(
    teacher='resnet18_cifar16_teacher_digits.py',
    student='simple_conv_student_digits.py',
    kd='kd_logits_teacher_student_digits.py')


class ProgressHook(Hook):
    """Prints one line per validation of a run (the runners log warnings
    only)."""

    priority = 'VERY_LOW'

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._start = time.perf_counter()
        #: Val top-1 after each validated epoch, ``[(epoch, accuracy)]``.
        self.history: List[Tuple[int, float]] = []

    def after_val_epoch(self, runner, metrics: Optional[Dict] = None) -> None:
        metrics = metrics or {}
        acc = float(metrics.get('accuracy/top1', float('nan')))
        self.history.append((runner.epoch, acc))
        elapsed = time.perf_counter() - self._start
        # subnet loops prefix their metrics (``max_subnet.``, ``subnet_0.``)
        text = ', '.join(
            f'{k[:-len("accuracy/top1")]}{float(v):.2f}%'
            for k, v in metrics.items()
            if k.endswith('.accuracy/top1')) or f'{acc:.2f}%'
        print(f'  {self.stage} epoch {runner.epoch}/{runner.max_epochs}: '
              f'val top-1 {text}  ({elapsed:.0f} s)', flush=True)


def run_with_progress(cfg: Config, stage: str) -> Runner:
    """Train ``cfg`` quietly (warnings only) with a progress line per
    validation (:class:`ProgressHook`); the runner."""
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    quiet_third_party_logs(runner.logger)
    runner.register_hook(ProgressHook(stage))
    runner.train()
    return runner


class TeacherCheckHook(Hook):
    """Fails a distillation run whose teacher is not the checkpoint's
    weights when training starts (after the runner's ``init_weights``):
    a re-initialised teacher would make the comparison meaningless."""

    def __init__(self, checkpoint: str) -> None:
        self.checkpoint = checkpoint

    def before_train(self, runner) -> None:
        saved = load_from_local(self.checkpoint)['state_dict']
        model = unwrap_model(runner.model)
        changed = [
            k for k, v in model.teacher.state_dict().items()
            if k not in saved or not torch.equal(v.cpu(), saved[k].cpu())
        ]
        if changed:
            raise RuntimeError(
                f'The teacher does not hold the weights of {self.checkpoint} '
                f'when training starts ({len(changed)} tensors differ, e.g. '
                f'{changed[0]!r}): SingleTeacherDistill must keep the '
                f'loaded teacher from being re-initialised by '
                f'init_weights() (set teacher._is_init = True after '
                f'loading).')


def demo_cfg(name: str, epochs: int, seed: int, work_dir: str,
             train_size: Optional[int]) -> Config:
    """A demo config ('teacher', 'student' or 'kd') for one run.

    Args:
        name (str): Which config.
        epochs (int): Training epochs; the cosine schedule follows them.
        seed (int): The run's seed (weights, data order, augmentation).
        work_dir (str): The run's work dir.
        train_size (int, optional): Train on the first this many training
            images only (for quick checks). None: all 1437.

    Returns:
        Config: The config.
    """
    cfg = Config.fromfile(osp.join(DEMO_DIR, CONFIGS[name]))
    cfg.train_cfg.max_epochs = epochs
    for sched in cfg.param_scheduler:
        if sched.type == 'CosineAnnealingLR':
            sched.T_max = max(1, epochs - 1)
            sched.end = epochs
    if epochs == 1:  # the warm-up epoch only: no room for the cosine
        cfg.param_scheduler = [
            s for s in cfg.param_scheduler if s.type != 'CosineAnnealingLR'
        ]
    if train_size is not None:
        cfg.train_dataloader.dataset.indices = train_size
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    return cfg


def train(cfg: Config, stage: str,
          *hooks: Hook) -> Tuple[float, List[Tuple[int, float]]]:
    """Train ``cfg``; return its val top-1 after the last epoch and after
    every validated epoch (``[(epoch, accuracy)]``)."""
    runner = Runner.from_cfg(cfg)
    quiet_third_party_logs(runner.logger)
    progress = ProgressHook(stage)
    runner.register_hook(progress)
    for hook in hooks:
        runner.register_hook(hook)
    runner.train()
    final = runner.message_hub.get_scalar('val/accuracy/top1').current()
    return float(final), progress.history


def plot_per_epoch(curves: Dict[str, List[List[Tuple[int, float]]]],
                   path: str, teacher: Optional[float] = None) -> bool:
    """Plot val top-1 per epoch: one thin line per seed, the mean bold.

    Args:
        curves: ``{label: [one [(epoch, accuracy)] per seed]}``.
        path: Where to write the PNG.
        teacher: The teacher's accuracy, drawn as a dashed line.

    Returns:
        Whether the plot was written (False without matplotlib).
    """
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed: no plot (pip install '
              'matplotlib)')
        return False
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for (label, runs), color in zip(curves.items(),
                                    ('tab:grey', 'tab:blue')):
        for run in runs:
            ax.plot([e for e, _ in run], [a for _, a in run], '-',
                    color=color, lw=0.7, alpha=0.5)
        epochs = [e for e, _ in runs[0]]
        mean = [statistics.mean(run[i][1] for run in runs)
                for i in range(len(epochs))]
        ax.plot(epochs, mean, 'o-', color=color, lw=2,
                label=f'{label} (mean of {len(runs)} seeds)')
    if teacher is not None:
        ax.axhline(teacher, color='tab:green', ls='--', lw=1,
                   label=f'teacher ({teacher:.2f}%)')
    ax.set_xlabel('epoch')
    ax.set_ylabel('val top-1 (%)')
    ax.set_title('Knowledge distillation on digits')
    ax.legend(loc='lower right', fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_open(path, 'wb') as f:
        fig.savefig(f, format='png')
    plt.close(fig)
    return True


def mean_std(values: List[float]) -> str:
    """``'mean +- std'`` (sample std; 0 for one value)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f'{statistics.mean(values):.2f} +- {std:.2f}'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/kd_digits_demo',
                        help='parent folder of the run (a new timestamped '
                        'folder is made inside)')
    parser.add_argument('--epochs', type=int, default=10,
                        help='epochs of every student run (alone and '
                        'distilled)')
    parser.add_argument('--teacher-epochs', type=int, default=None,
                        help='epochs of the teacher (default: --epochs)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='seeds of the student runs')
    parser.add_argument('--teacher-seed', type=int, default=0)
    parser.add_argument('--teacher-ckpt', default=None,
                        help='distill from this teacher checkpoint instead '
                        'of training one')
    parser.add_argument('--train-size', type=int, default=None,
                        help='train on the first N training images only '
                        '(quick checks; default: all 1437)')
    args = parser.parse_args(argv)
    if args.teacher_epochs is None:
        args.teacher_epochs = args.epochs
    for name in ('epochs', 'teacher_epochs', 'train_size'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, '
                         f'got {value}')
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds must differ, got {args.seeds}')
    if args.teacher_ckpt is not None and not osp.isfile(args.teacher_ckpt):
        parser.error(f'--teacher-ckpt {args.teacher_ckpt!r}: no such file')
    return args


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    register_all_modules(False)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    run_dir = osp.join(args.work_dir, time.strftime('%Y%m%d_%H%M%S'))
    if osp.exists(run_dir):
        sys.exit(f'{run_dir} already exists; wait a second and run again')
    start = time.perf_counter()
    seeds = args.seeds

    teacher_acc = None
    if args.teacher_ckpt is None:
        print(f'[1/2] Training the teacher, ResNet_CIFAR-18 at width 16 '
              f'({args.teacher_epochs} epochs, seed {args.teacher_seed})',
              flush=True)
        cfg = demo_cfg('teacher', args.teacher_epochs, args.teacher_seed,
                       osp.join(run_dir, 'teacher'), args.train_size)
        teacher_acc, _ = train(cfg, 'teacher')
        teacher_ckpt = osp.join(cfg.work_dir,
                                f'epoch_{args.teacher_epochs}.pth')
    else:
        print(f'[1/2] Teacher: {args.teacher_ckpt} (not trained here)')
        teacher_ckpt = args.teacher_ckpt
    t_teacher = time.perf_counter() - start

    print(f'[2/2] Training the student alone and distilled, '
          f'{args.epochs} epochs each, seeds {seeds}', flush=True)
    alone: List[float] = []
    distilled: List[float] = []
    curves: Dict[str, List[List[Tuple[int, float]]]] = dict(
        alone=[], distilled=[])
    for i, seed in enumerate(seeds):
        tag = f'seed {seed} ({i + 1}/{len(seeds)})'
        cfg = demo_cfg('student', args.epochs, seed,
                       osp.join(run_dir, f'student_seed{seed}'),
                       args.train_size)
        acc, history = train(cfg, f'alone {tag}')
        alone.append(acc)
        curves['alone'].append(history)
        cfg = demo_cfg('kd', args.epochs, seed,
                       osp.join(run_dir, f'kd_seed{seed}'), args.train_size)
        cfg.model.teacher_ckpt = teacher_ckpt
        acc, history = train(cfg, f'KD    {tag}',
                             TeacherCheckHook(teacher_ckpt))
        distilled.append(acc)
        curves['distilled'].append(history)
        print(f'  seed {seed}: alone {alone[-1]:.2f}%, distilled '
              f'{distilled[-1]:.2f}% ({distilled[-1] - alone[-1]:+.2f})',
              flush=True)
    total = time.perf_counter() - start

    gaps = [d - a for d, a in zip(distilled, alone)]
    report = dict(
        teacher_accuracy=teacher_acc,
        teacher_ckpt=teacher_ckpt,
        seeds=seeds,
        epochs=args.epochs,
        teacher_epochs=args.teacher_epochs,
        train_size=args.train_size,
        alone=alone,
        distilled=distilled,
        alone_mean=statistics.mean(alone),
        distilled_mean=statistics.mean(distilled),
        alone_std=statistics.stdev(alone) if len(alone) > 1 else 0.0,
        distilled_std=(statistics.stdev(distilled)
                       if len(distilled) > 1 else 0.0),
        gain=statistics.mean(distilled) - statistics.mean(alone),
        worst_gap=min(gaps),
        alone_per_epoch=curves['alone'],
        distilled_per_epoch=curves['distilled'],
        teacher_time_s=t_teacher,
        wall_time_s=total,
        run_dir=run_dir)
    plot = osp.join(run_dir, 'accuracy_per_epoch.png')
    if not plot_per_epoch(curves, plot, teacher_acc):
        plot = None
    report['plot'] = plot
    atomic_dump_json(report, osp.join(run_dir, 'report.json'), indent=2)

    print('\n==== Knowledge distillation on digits: report ====')
    if teacher_acc is None:
        print(f'Teacher: {teacher_ckpt}')
    else:
        print(f'Teacher (ResNet_CIFAR-18/16, 0.70 M params): val top-1 '
              f'{teacher_acc:.2f}% after {args.teacher_epochs} epochs')
    print(f'Student (SimpleConvNet, 5.5 k params), val top-1 after '
          f'{args.epochs} epochs:')
    print('  seed   alone  distilled    gain')
    for seed, a, d in zip(seeds, alone, distilled):
        print(f'  {seed:>4}  {a:6.2f}  {d:9.2f}  {d - a:+6.2f}')
    print(f'  mean +- std over {len(seeds)} seed(s): alone '
          f'{mean_std(alone)}, distilled {mean_std(distilled)}')
    print(f'Gain from distillation: {report["gain"]:+.2f} points '
          f'(worst seed {min(gaps):+.2f})')
    print(f'Report:    {osp.join(run_dir, "report.json")}')
    if plot:
        print(f'Plot:      {plot}')
    print(f'Wall time: teacher {t_teacher:.0f} s, students '
          f'{total - t_teacher:.0f} s, total {total:.0f} s')
    return report


if __name__ == '__main__':
    main()
