# Copyright (c) OpenMMLab. All rights reserved.
"""Figures of ``examples/custom_backbone``: its SPOS supernet on digits."""
import json
import os.path as osp
from typing import Any, Callable, Dict

from _figure_common import conditions_text, duration, newest_run

NAME = 'custom-backbone-digits'
COMMANDS = [
    'OMP_WAIT_POLICY=PASSIVE PYTHONPATH=$PWD python tools/train.py \\\n'
    '    examples/custom_backbone/tiny_spos_config.py \\\n'
    '    --work-dir work_dirs/tiny_spos_config'
]


def collect(work_dir: str) -> Dict[str, Any]:
    """The random subnets' accuracy at each validation of the run."""
    run = newest_run(osp.join(work_dir, 'tiny_spos_config'),
                     marker='vis_data/scalars.json')
    with open(osp.join(run, 'vis_data', 'scalars.json')) as f:
        records = [json.loads(line) for line in f if line.strip()]
    keys = ('random_subnet_0.accuracy/top1', 'random_subnet_1.accuracy/top1')
    vals = [dict(epoch=r['step'], accuracies=[r[k] for k in keys])
            for r in records if keys[0] in r]
    return dict(validations=vals)


def results(r: Dict[str, Any], link: Callable[[str], str]) -> str:
    times = (r.get('conditions') or {}).get('command_times_s')
    took = f' took {duration(times[0])}' if times else ''
    rows = [f'| {v["epoch"]} | ' +
            ' | '.join(f'{a:.2f}' for a in v['accuracies']) + ' |'
            for v in r['validations']]
    return '\n'.join([
        '```shell',
        *COMMANDS,
        '```',
        '',
        f'One run{took} ({conditions_text(r)}); val top-1 of the two random '
        'subnets that `SubnetValLoop` validates, BN recalibrated:',
        '',
        '| epoch | random subnet 0 (%) | random subnet 1 (%) |',
        '|---|---|---|',
        *rows,
    ])


VIEWS = dict(results=results)
