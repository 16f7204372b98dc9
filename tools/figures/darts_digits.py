# Copyright (c) OpenMMLab. All rights reserved.
"""Figures of ``tools/demo_darts.py``: DARTS on digits (DARTS guide)."""
import os.path as osp
from typing import Any, Callable, Dict

from _figure_common import conditions_text, duration, newest_run, read_json

NAME = 'darts-digits'
COMMANDS = ['OMP_WAIT_POLICY=PASSIVE python tools/demo_darts.py']
RUN_ARGS = '--work-dir {work_dir}/darts_digits_demo'
VOLATILE = ('search_time_s', 'wall_time_s')
KEYS = ('genotype', 'unroll', 'search_epochs', 'warmup_epochs', 'arch_lr',
        'search_val_accuracy',
        'retrain_epochs', 'seeds', 'rows', 'searched', 'random',
        'searched_mean', 'searched_std', 'random_mean', 'random_std', 'gain',
        'worst_gap') + VOLATILE


def collect(work_dir: str) -> Dict[str, Any]:
    """The report of the newest run of the demo in ``work_dir``."""
    run = newest_run(osp.join(work_dir, 'darts_digits_demo'))
    report = read_json(osp.join(run, 'report.json'))
    figures = {k: report[k] for k in KEYS}
    figures['plots'] = dict(genotype=osp.join(run, 'genotype.png'))
    return figures


def table(r: Dict[str, Any], link: Callable[[str], str]) -> str:
    order = 'second' if r['unroll'] else 'first'
    rows = [
        f'| {x["seed"]} | {x["searched"]:.2f} | {x["random"]:.2f} | '
        f'{x["searched"] - x["random"]:+.2f} | '
        f'{x["searched_params_k"]:.1f} / {x["random_params_k"]:.1f} | '
        f'{x["searched_mflops"]:.3f} / {x["random_mflops"]:.3f} |'
        for x in r['rows']
    ]
    return '\n'.join([
        f'`{COMMANDS[0]}` searched for {r["search_epochs"]} epochs '
        f'({order} order, weights only for the first '
        f'{r["warmup_epochs"]}, architecture Adam lr {r["arch_lr"]:g}; '
        f'the supernet reached {r["search_val_accuracy"]:.2f}'
        f'% val top-1 in {duration(r["search_time_s"])}), then retrained '
        f'the derived genotype and one random genotype per seed for '
        f'{r["retrain_epochs"]} epochs each ({conditions_text(r)}; '
        f'{duration(r["wall_time_s"])} in all, inflated by the shared '
        'machine). Val top-1 (%) on the 360 val images:',
        '',
        '| seed | searched | random | gain | params K (searched / random) '
        '| MFLOPs (searched / random) |',
        '|---|---|---|---|---|---|',
        *rows,
        f'| mean +- std | {r["searched_mean"]:.2f} +- '
        f'{r["searched_std"]:.2f} | {r["random_mean"]:.2f} +- '
        f'{r["random_std"]:.2f} | {r["gain"]:+.2f} | | |',
        '',
        'The derived genotype (op, input; inputs 0 and 1 are the cell '
        'inputs, input j >= 2 is node j - 2):',
        '',
        f'- normal: `[{r["genotype"]["normal"]}]`',
        f'- reduce: `[{r["genotype"]["reduce"]}]`',
        '',
        f'![the derived normal and reduction cells]'
        f'({link(r["plots"]["genotype"])})',
    ])


VIEWS = dict(table=table)
