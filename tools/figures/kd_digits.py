# Copyright (c) OpenMMLab. All rights reserved.
"""Figures of ``tools/demo_distill.py``: KD on digits (README, guide)."""
import os.path as osp
from typing import Any, Callable, Dict

from _figure_common import conditions_text, duration, newest_run, read_json

NAME = 'kd-digits'
COMMANDS = ['OMP_WAIT_POLICY=PASSIVE python tools/demo_distill.py']
RUN_ARGS = '--work-dir {work_dir}/kd_digits_demo'
VOLATILE = ('teacher_time_s', 'wall_time_s')
KEYS = ('teacher_accuracy', 'teacher_epochs', 'epochs', 'seeds', 'alone',
        'distilled', 'alone_mean', 'alone_std', 'distilled_mean',
        'distilled_std', 'gain', 'worst_gap', 'alone_per_epoch',
        'distilled_per_epoch') + VOLATILE


def collect(work_dir: str) -> Dict[str, Any]:
    """The report of the newest run of the demo in ``work_dir``."""
    run = newest_run(osp.join(work_dir, 'kd_digits_demo'))
    report = read_json(osp.join(run, 'report.json'))
    figures = {k: report[k] for k in KEYS}
    figures['plots'] = dict(
        per_epoch=osp.join(run, 'accuracy_per_epoch.png'))
    return figures


def _seeds(r: Dict[str, Any]) -> str:
    seeds = r['seeds']
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f'seeds {seeds[0]}-{seeds[-1]}'
    return 'seeds ' + ', '.join(str(s) for s in seeds)


def _plot(r: Dict[str, Any], link: Callable[[str], str]) -> str:
    return (f'![val top-1 per epoch, student alone and distilled, '
            f'{_seeds(r)}]({link(r["plots"]["per_epoch"])})')


def summary(r: Dict[str, Any], link: Callable[[str], str]) -> str:
    return '\n'.join([
        f'Knowledge distillation on the same data (`{COMMANDS[0]}`, '
        f'{duration(r["wall_time_s"])} on {conditions_text(r)}): a '
        f'ResNet_CIFAR-18 teacher (width 16, {r["teacher_accuracy"]:.2f}% '
        f'after {r["teacher_epochs"]} epochs) distilled into a 5.5 '
        f'k-parameter CNN ({r["epochs"]} epochs, T = 4, 0.1 CE + 0.9 KD) '
        f'gives **{r["distilled_mean"]:.2f} +- {r["distilled_std"]:.2f}%** '
        f'over {_seeds(r)}, against {r["alone_mean"]:.2f} +- '
        f'{r["alone_std"]:.2f}% for the same student alone '
        f'({r["gain"]:+.2f} points, worst seed {r["worst_gap"]:+.2f}).',
        '',
        _plot(r, link),
    ])


def seeds(r: Dict[str, Any], link: Callable[[str], str]) -> str:
    rows = [f'| {s} | {a:.2f} | {d:.2f} | {d - a:+.2f} |'
            for s, a, d in zip(r['seeds'], r['alone'], r['distilled'])]
    return '\n'.join([
        f'`{COMMANDS[0]}` trains the teacher (val top-1 '
        f'{r["teacher_accuracy"]:.2f}% after {r["teacher_epochs"]} epochs), '
        f'then the student alone and distilled for {r["epochs"]} epochs per '
        f'seed ({conditions_text(r)}; {duration(r["wall_time_s"])} in all, '
        'inflated by the shared machine):',
        '',
        '| seed | alone (%) | distilled (%) | gain |',
        '|---|---|---|---|',
        *rows,
        f'| mean +- std | {r["alone_mean"]:.2f} +- {r["alone_std"]:.2f} | '
        f'{r["distilled_mean"]:.2f} +- {r["distilled_std"]:.2f} | '
        f'{r["gain"]:+.2f} |',
        '',
        _plot(r, link),
    ])


VIEWS = dict(summary=summary, seeds=seeds)
