# Copyright (c) OpenMMLab. All rights reserved.
"""Distillation step: SingleTeacherDistill vs. the same work in plain PyTorch.

Run from the repository root::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python \
        benchmarks/distill_step_overhead.py \
        --batch-size 16 --input-size 32 --repeats 40 --warmup 3 \
        --threads 2 --control --json work_dirs/distill_step.json

What it does:

1. Builds a teacher and a student mmcls ``ImageClassifier`` (``ResNet_CIFAR``
   depth 18, ``GlobalAveragePooling``, ``LinearClsHead`` with 10 classes;
   teacher width ``--teacher-width``, student width ``--student-width``)
   with random weights (seed ``--seed``).
2. Variant ``distill`` (A): a :class:`SingleTeacherDistill` around them,
   with a ``ClsDataPreprocessor`` (mean/std normalisation) and a
   :class:`ConfigurableDistiller` recording 2 feature pairs
   (``backbone.layer3`` and ``backbone.layer4`` outputs of both models by
   ``ModuleOutputs`` forward hooks) into two ``ATLoss``. One step is
   mmengine's ``algorithm.train_step(data, optim_wrapper)``: data
   preprocessor, teacher forward in ``'loss'`` mode under ``no_grad``
   (inside the teacher recorders), student forward in ``'loss'`` mode
   (inside the student recorders), the two distill losses,
   ``parse_losses`` and ``OptimWrapper.update_params`` (backward, SGD step,
   ``zero_grad``). The optimizer wrapper comes from mmengine's
   ``build_optim_wrapper`` (SGD, lr 0.01, momentum 0.9, weight decay 5e-4).
3. Variant ``plain`` (B): deep copies of the same two models (identical
   weights, no hooks) driven by hand-written PyTorch: the same
   normalisation, the teacher's stem and residual layers called one by one
   under ``no_grad`` returning layer3/layer4 directly, then its pooling,
   fc and cross-entropy (the teacher's ``'loss'`` mode computes them too,
   so both variants run the same aten ops); the student the same way with
   gradients; the same cross-entropy and ``ATLoss`` modules; the sum;
   ``backward``; ``torch.optim.SGD`` (same settings, student parameters)
   ``step``; ``zero_grad``.
4. Checks parity on the first step, from identical weights and the same
   batch: each loss (student CE and both AT losses) and every student
   parameter after the SGD step must agree within ``1e-5`` (relative).
5. Times one step of each variant, interleaved in one process (the order
   rotates every round), and reports per variant the median, p10, p90 and
   min wall-clock time and the median CPU time, and the ratio
   distill / plain of the medians with a bootstrap 95% interval, plus the
   ratio of the minima, the median of the per-round ratios and the ratio
   of the median CPU times. The target is a ratio of medians <= 1.05.
   With ``--control``, a second plain loop on its own copies is timed as a
   third variant and compared with ``plain`` (an A/A test: the noise floor
   of the machine at that moment).
6. With ``--profile N``, runs N more steps of each variant under cProfile
   and prints the functions whose cumulative time differs most, to locate
   any overhead (recorder hooks, distiller bookkeeping, data preprocessor,
   ``OptimWrapper``).

Timings on a shared machine are noisy: compare the ratios, not the absolute
times, and set ``OMP_WAIT_POLICY=PASSIVE`` (set here by default when unset)
so that idle OpenMP threads do not spin.
"""
import argparse
import copy
import cProfile
import os
import os.path as osp
import pstats
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
# Sets OMP_WAIT_POLICY, so it comes before torch.
import _common as common  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

TARGET_RATIO = 1.05
PARITY_TOL = 1e-5
NUM_CLASSES = 10
MEAN = [125.307, 122.961, 113.8575]
STD = [51.5865, 50.847, 51.255]
FEATURE_LAYERS = ('layer3', 'layer4')
SGD_CFG = dict(lr=0.01, momentum=0.9, weight_decay=5e-4)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments; ``sys.argv[1:]`` when
            None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Time a SingleTeacherDistill train_step (2 recorded '
        'feature pairs) against the same work written in plain PyTorch '
        '(same weights, no recorders), after checking that both give the '
        'same losses and updates.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument(
        '--input-size', type=int, default=32, help='input height/width')
    parser.add_argument(
        '--teacher-width',
        type=int,
        default=64,
        help='base channels of the teacher ResNet_CIFAR-18')
    parser.add_argument(
        '--student-width',
        type=int,
        default=32,
        help='base channels of the student ResNet_CIFAR-18')
    parser.add_argument(
        '--repeats', type=int, default=40, help='timed steps per variant')
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed steps per variant')
    common.add_run_args(
        parser, seed_help='seed of weights, data, bootstrap', bootstrap=True)
    parser.add_argument(
        '--control',
        action='store_true',
        help='also time a second plain loop and report its ratio to the '
        'first (A/A test: the noise floor); costs 50%% more time')
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='N',
        help='after timing, profile N steps of each variant with cProfile '
        'and print where their cumulative times differ')
    common.add_output_args(parser, TARGET_RATIO, 'the')
    args = parser.parse_args(argv)
    common.require_positive(parser, args,
                            ('batch_size', 'input_size', 'teacher_width',
                             'student_width', 'repeats', 'threads'))
    if args.warmup < 0 or args.bootstrap < 0 or args.profile < 0:
        parser.error('--warmup, --bootstrap and --profile must be >= 0')
    if args.input_size < 8:
        parser.error('--input-size must be >= 8 (layer4 downsamples 8x)')
    return args


# --------------------------------------------------------------------------
# Models


def classifier_cfg(width: int) -> Dict[str, Any]:
    """An mmcls ResNet_CIFAR-18 classifier config of base width ``width``."""
    return dict(
        type='mmcls.ImageClassifier',
        backbone=dict(
            type='mmcls.ResNet_CIFAR',
            depth=18,
            base_channels=width,
            num_stages=4,
            out_indices=(3, ),
            style='pytorch'),
        neck=dict(type='mmcls.GlobalAveragePooling'),
        head=dict(
            type='mmcls.LinearClsHead',
            num_classes=NUM_CLASSES,
            in_channels=width * 8,
            loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0)))


def distiller_cfg() -> Dict[str, Any]:
    """2 recorded feature pairs (layer3, layer4 outputs) into 2 ATLoss."""
    recorders = {
        name: dict(type='ModuleOutputs', source=f'backbone.{name}')
        for name in FEATURE_LAYERS
    }
    return dict(
        type='ConfigurableDistiller',
        student_recorders=recorders,
        teacher_recorders=copy.deepcopy(recorders),
        distill_losses={
            f'loss_at_{name}': dict(type='ATLoss', loss_weight=1.0)
            for name in FEATURE_LAYERS
        },
        loss_forward_mappings={
            f'loss_at_{name}': dict(
                s_feature=dict(from_student=True, recorder=name),
                t_feature=dict(from_student=False, recorder=name))
            for name in FEATURE_LAYERS
        })


def build_models(args: argparse.Namespace) -> Tuple[nn.Module, nn.Module]:
    """Teacher and student classifiers with random weights."""
    from mmrazor.registry import MODELS

    torch.manual_seed(args.seed)
    teacher = MODELS.build(classifier_cfg(args.teacher_width))
    student = MODELS.build(classifier_cfg(args.student_width))
    teacher.init_weights()
    student.init_weights()
    return teacher, student


def build_distill(teacher: nn.Module, student: nn.Module,
                  args: argparse.Namespace) -> Tuple[nn.Module, Any]:
    """The SingleTeacherDistill algorithm and its mmengine OptimWrapper."""
    from mmengine.optim import build_optim_wrapper

    from mmrazor.models.algorithms import SingleTeacherDistill

    algo = SingleTeacherDistill(
        architecture=student,
        teacher=teacher,
        distiller=distiller_cfg(),
        demo_input_shape=(1, 3, args.input_size, args.input_size),
        data_preprocessor=dict(
            type='mmcls.ClsDataPreprocessor',
            mean=MEAN,
            std=STD,
            to_rgb=False))
    algo.train()
    optim_wrapper = build_optim_wrapper(
        algo, dict(optimizer=dict(type='SGD', **SGD_CFG)))
    return algo, optim_wrapper


def _resnet_features(backbone: nn.Module,
                     x: torch.Tensor) -> List[torch.Tensor]:
    """Outputs of every residual stage of an mmcls ResNet_CIFAR."""
    x = backbone.relu(backbone.norm1(backbone.conv1(x)))
    outs = []
    for name in backbone.res_layers:
        x = getattr(backbone, name)(x)
        outs.append(x)
    return outs


class PlainStep:
    """One distillation step in plain PyTorch, without any recorder.

    The models are deep copies made before the recorders were installed;
    their submodules are called explicitly, so the features come back as
    return values. The loss modules are those of the distiller (no state).
    """

    def __init__(self, teacher: nn.Module, student: nn.Module,
                 at_losses: Sequence[nn.Module]) -> None:
        self.teacher = copy.deepcopy(teacher).eval()
        self.student = copy.deepcopy(student).train()
        for param in self.teacher.parameters():
            param.requires_grad = False
        self.at_losses = list(at_losses)
        self.mean = torch.tensor(MEAN).view(1, -1, 1, 1)
        self.std = torch.tensor(STD).view(1, -1, 1, 1)
        self.optimizer = torch.optim.SGD(self.student.parameters(),
                                         **SGD_CFG)
        self.indices = [
            list(self.student.backbone.res_layers).index(name)
            for name in FEATURE_LAYERS
        ]

    def _logits_and_features(
            self, model: nn.Module,
            x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        outs = _resnet_features(model.backbone, x)
        pooled = F.adaptive_avg_pool2d(outs[-1], 1).flatten(1)
        logits = model.head.fc(pooled)
        return logits, [outs[i] for i in self.indices]

    def __call__(self, data: Dict[str, Any]) -> Dict[str, torch.Tensor]:
        inputs = (data['inputs'].float() - self.mean) / self.std
        labels = data['labels']
        with torch.no_grad():
            t_logits, t_feats = self._logits_and_features(self.teacher, inputs)
            # The teacher's 'loss' mode computes (and drops) its loss too.
            F.cross_entropy(t_logits, labels)
        s_logits, s_feats = self._logits_and_features(self.student, inputs)
        losses = {'student.loss': F.cross_entropy(s_logits, labels)}
        for name, loss, s_feat, t_feat in zip(FEATURE_LAYERS, self.at_losses,
                                              s_feats, t_feats):
            losses[f'distill.loss_at_{name}'] = loss(s_feat, t_feat)
        total = sum(losses.values())
        total.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return losses


def make_data(args: argparse.Namespace) -> Dict[str, Any]:
    """One batch, in mmengine's form (``inputs``, ``data_samples``) and as
    a label tensor for the plain loop."""
    from mmcls.structures import ClsDataSample

    gen = torch.Generator().manual_seed(args.seed)
    size = args.input_size
    inputs = torch.randint(
        0, 256, (args.batch_size, 3, size, size), generator=gen).float()
    labels = torch.randint(
        0, NUM_CLASSES, (args.batch_size, ), generator=gen)
    samples = [ClsDataSample().set_gt_label(int(i)) for i in labels]
    return dict(inputs=inputs, data_samples=samples, labels=labels)


# --------------------------------------------------------------------------
# Parity


def check_parity(algo: nn.Module, optim_wrapper: Any, plain: PlainStep,
                 data: Dict[str, Any]) -> Dict[str, Any]:
    """Run one step of each variant from identical weights and compare."""
    mm_data = dict(inputs=data['inputs'], data_samples=data['data_samples'])
    log_a = algo.train_step(mm_data, optim_wrapper)
    log_b = plain(data)
    diffs = {}
    for key, value in log_b.items():
        a, b = float(log_a[key].detach()), float(value.detach())
        diffs[key] = abs(a - b) / max(abs(b), 1e-12)
    params_a = dict(algo.student.named_parameters())
    param_diff = 0.0
    for name, param in plain.student.named_parameters():
        ref = params_a[name].detach()
        scale = max(ref.abs().max().item(), 1e-12)
        param_diff = max(param_diff,
                         (param.detach() - ref).abs().max().item() / scale)
    diffs['student_params_after_step'] = param_diff
    max_diff = max(diffs.values())
    return dict(
        rel_diffs=diffs,
        losses={k: float(v)
                for k, v in ((k, v.detach()) for k, v in log_b.items())},
        max_rel_diff=max_diff,
        parity_ok=max_diff <= PARITY_TOL)


def profile_steps(steps: Dict[str, Callable[[], Any]], n: int,
                  top: int = 20) -> Dict[str, Any]:
    """cProfile ``n`` steps of ``distill`` and ``plain``.

    Both variants run the same aten ops, so the Python functions with more
    self time (``tottime``) per step in ``distill`` than in ``plain`` are
    where any overhead lives; their cumulative times are given as well.
    Built-ins (aten kernels) are left out of the list: their differences
    are noise.

    Returns:
        dict: Python calls and profiled seconds per step of each variant,
        and ``top_extra``: up to ``top`` functions sorted by extra self
        time per step.
    """
    result: Dict[str, Any] = {}
    stats = {}
    for name in ('distill', 'plain'):
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n):
            steps[name]()
        prof.disable()
        st = pstats.Stats(prof)
        stats[name] = st.stats  # type: ignore[attr-defined]
        result[f'{name}_python_calls_per_step'] = sum(
            v[1] for v in stats[name].values()) / n
        result[f'{name}_profiled_s_per_step'] = \
            st.total_tt / n  # type: ignore[attr-defined]
        # Self time of Python functions (not of C/aten built-ins): the
        # interpreter overhead of the step.
        result[f'{name}_python_self_ms_per_step'] = sum(
            v[2] for f, v in stats[name].items() if f[0] != '~') / n * 1e3
    rows = []
    for func, (_, ncalls, tottime, cumtime, _) in stats['distill'].items():
        if func[0] == '~':
            continue  # aten kernels: the same work in both, only noise
        other = stats['plain'].get(func, (0, 0, 0.0, 0.0, None))
        where = func[0] if func[0] == '~' else osp.relpath(func[0])
        rows.append(
            dict(
                function=f'{where}:{func[1]}({func[2]})',
                extra_self_ms_per_step=(tottime - other[2]) / n * 1e3,
                distill_cum_ms_per_step=cumtime / n * 1e3,
                plain_cum_ms_per_step=other[3] / n * 1e3,
                extra_calls_per_step=(ncalls - other[1]) / n))
    rows.sort(key=lambda r: r['extra_self_ms_per_step'], reverse=True)
    result['top_extra'] = rows[:top]
    return result


def format_report(report: Dict[str, Any]) -> str:
    """Render the figures as text."""
    par = report['parity']
    lines = [
        f'parity: max relative diff distill vs plain = '
        f'{par["max_rel_diff"]:.3e} (tol {PARITY_TOL:g}) -> '
        f'{"OK" if par["parity_ok"] else "FAIL"}; losses ' + ', '.join(
            f'{k} {v:.4f}' for k, v in par['losses'].items()),
    ]
    header = f'  {"variant":>9} {common.STATS_HEADER}'
    lines += [header, '  ' + '-' * (len(header) - 2)]
    for name, s in report['stats'].items():
        lines.append(f'  {name:>9} {common.stats_cells(s)}')

    lines += common.ratio_lines('distill/plain', report['ratio'],
                                TARGET_RATIO)
    if 'control' in report:
        lines += common.ratio_lines('plain_copy/plain', report['control'],
                                    None)
    if 'profile' in report:
        prof = report['profile']
        lines.append(
            f'profile: python calls per step distill '
            f'{prof["distill_python_calls_per_step"]:.0f}, plain '
            f'{prof["plain_python_calls_per_step"]:.0f}; Python self ms per '
            f'step distill {prof["distill_python_self_ms_per_step"]:.2f}, '
            f'plain {prof["plain_python_self_ms_per_step"]:.2f}; Python '
            f'functions with '
            f'more self time per step in distill (cProfile inflates Python '
            f'time): extra self ms, distill cumulative ms, extra calls')
        for row in prof['top_extra']:
            lines.append(f'  {row["extra_self_ms_per_step"]:>8.3f} '
                         f'{row["distill_cum_ms_per_step"]:>9.3f} '
                         f'{row["extra_calls_per_step"]:>6.0f}  '
                         f'{row["function"]}')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Run the benchmark and print the figures.

    Args:
        argv (Sequence[str], optional): Command-line arguments; see
            ``--help``. ``sys.argv[1:]`` when None.

    Returns:
        dict: The figures (also written to ``--json``): ``meta``,
        ``parity``, ``stats`` (per variant), ``ratio`` (distill / plain),
        ``control`` (with ``--control``) and ``profile`` (with
        ``--profile``).
    """
    import mmcls  # noqa: F401  (registers the mmcls modules)

    import mmrazor  # noqa: F401  (registers the mmrazor modules)

    args = parse_args(argv)
    common.check_new_path(args.json)
    common.setup_torch(args.threads, args.seed)

    start = time.perf_counter()
    teacher, student = build_models(args)
    # Copies for the plain loops first: the recorders add hooks to the
    # originals.
    plain_teacher = copy.deepcopy(teacher)
    plain_student = copy.deepcopy(student)
    algo, optim_wrapper = build_distill(teacher, student, args)
    at_losses = [
        algo.distiller.distill_losses[f'loss_at_{name}']
        for name in FEATURE_LAYERS
    ]
    plain = PlainStep(plain_teacher, plain_student, at_losses)
    build_s = time.perf_counter() - start

    data = make_data(args)
    parity = check_parity(algo, optim_wrapper, plain, data)
    plain_copy = PlainStep(plain.teacher, plain.student,
                           at_losses) if args.control else None

    mm_data = dict(inputs=data['inputs'], data_samples=data['data_samples'])
    steps: Dict[str, Callable[[], Any]] = dict(
        distill=lambda: algo.train_step(mm_data, optim_wrapper),
        plain=lambda: plain(data))
    if plain_copy is not None:
        steps['plain_copy'] = lambda: plain_copy(data)

    meta = dict(
        common.machine_meta(load_avg=True),
        batch_size=args.batch_size,
        input_size=args.input_size,
        teacher_width=args.teacher_width,
        student_width=args.student_width,
        feature_layers=list(FEATURE_LAYERS),
        repeats=args.repeats,
        warmup=args.warmup,
        control=args.control,
        seed=args.seed,
        parity_tol=PARITY_TOL,
        target_ratio=TARGET_RATIO,
        strict=args.strict,
        build_s=build_s)
    print(f'{common.machine_line(meta)}; batch {args.batch_size}, input '
          f'{args.input_size}x{args.input_size}, teacher width '
          f'{args.teacher_width}, student width {args.student_width}; '
          f'repeats {args.repeats}, warmup {args.warmup}; built in '
          f'{build_s:.1f} s')

    times = common.time_rounds(steps, args.repeats, args.warmup)
    report: Dict[str, Any] = dict(meta=meta, parity=parity)
    report['stats'] = {
        name: common.summarize(t['wall'], t['cpu'])
        for name, t in times.items()
    }
    report['ratio'] = common.compare(times['distill'], times['plain'],
                                     args.bootstrap, args.seed, TARGET_RATIO)
    if args.control:
        report['control'] = common.compare(times['plain_copy'],
                                           times['plain'], args.bootstrap,
                                           args.seed, TARGET_RATIO)
    if args.profile:
        report['profile'] = profile_steps(steps, args.profile)
    report['times_s'] = times
    if hasattr(os, 'getloadavg'):
        meta['load_avg_end'] = os.getloadavg()
    print(format_report(report))

    if args.json:
        common.write_json(args.json, report, announce=True)
    return report


def cli() -> int:
    """Entry point: the exit status is 1 if parity fails (or, with
    ``--strict``, if the ratio exceeds the target)."""
    report = main()
    if not report['parity']['parity_ok']:
        return 1
    if report['meta']['strict'] and not report['ratio']['within_target']:
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(cli())
