# Copyright (c) OpenMMLab. All rights reserved.
"""Figures of ``tools/demo.py``: SPOS on digits (README, quick run)."""
import os.path as osp
from typing import Any, Callable, Dict

from _figure_common import conditions_text, duration, newest_run, read_json

NAME = 'spos-digits'
COMMANDS = ['OMP_WAIT_POLICY=PASSIVE python tools/demo.py']
RUN_ARGS = '--work-dir {work_dir}/spos_digits_demo'
VOLATILE = ('supernet_time_s', 'search_time_s', 'subnet_time_s',
            'export_time_s', 'wall_time_s', 'latency_ms')
KEYS = ('supernet_epochs', 'search_epochs', 'subnet_epochs',
        'flops_budget_m', 'seed', 'supernet_path_accuracies',
        'first_population_median', 'first_population_size',
        'search_best_score', 'evaluated', 'subnet', 'accuracy', 'flops_m',
        'params_m') + VOLATILE


def collect(work_dir: str) -> Dict[str, Any]:
    """The report of the newest run of the demo in ``work_dir``."""
    report = read_json(
        osp.join(newest_run(osp.join(work_dir, 'spos_digits_demo')),
                 'report.json'))
    return {k: report[k] for k in KEYS}


def table(r: Dict[str, Any], link: Callable[[str], str]) -> str:
    paths = ' and '.join(f'{a:.2f}%' for a in r['supernet_path_accuracies'])
    n_paths = len(r['supernet_path_accuracies'])
    return '\n'.join([
        f'What `{COMMANDS[0]}` printed (seed {r["seed"]}; '
        f'{conditions_text(r)}: the wall times are inflated):',
        '',
        '| stage | result | wall time |',
        '|---|---|---|',
        f'| supernet, {r["supernet_epochs"]} epochs | {n_paths} random paths'
        f' reach {paths} top-1 (BN recalibrated) | '
        f'{duration(r["supernet_time_s"])} |',
        f'| search, {r["search_epochs"]} generations, budget '
        f'{r["flops_budget_m"]:g} MFLOPs | first random population median '
        f'{r["first_population_median"]:.2f}%, best '
        f'{r["search_best_score"]:.2f}% ({r["evaluated"]} subnets) | '
        f'{duration(r["search_time_s"])} |',
        f'| best subnet retrained, {r["subnet_epochs"]} epochs | '
        f'**{r["accuracy"]:.2f}%** val top-1, {r["flops_m"]:.3f} MFLOPs, '
        f'{r["params_m"]:.3f} M params | {duration(r["subnet_time_s"])} |',
        f'| export to a static model, resources | latency '
        f'{r["latency_ms"]:.2f} ms (batch 1, CPU) | '
        f'{duration(r["export_time_s"])} |',
        '',
        f'Total {duration(r["wall_time_s"])}.',
    ])


def time(r: Dict[str, Any], link: Callable[[str], str]) -> str:
    return (f'One run of `{COMMANDS[0]}` took {duration(r["wall_time_s"])} '
            f'({conditions_text(r)}); the [README]({link("README.md")}'
            '#quick-start) shows what it printed.')


VIEWS = dict(table=table, time=time)
