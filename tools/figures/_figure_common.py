# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers shared by the figure modules of ``tools/reproduce_figures.py``."""
import json
import os.path as osp
from glob import glob
from typing import Any, Dict


def newest_run(parent: str, marker: str = 'report.json') -> str:
    """The newest timestamped run folder of ``parent`` holding ``marker``.

    Raises:
        FileNotFoundError: If there is none.
    """
    runs = sorted(p for p in glob(osp.join(parent, '[0-9]' * 8 + '_*'))
                  if osp.isfile(osp.join(p, marker)))
    if not runs:
        raise FileNotFoundError(f'no run folder with {marker} in {parent}')
    return runs[-1]


def read_json(path: str) -> Any:
    with open(path) as f:
        return json.load(f)


def duration(seconds: float) -> str:
    """``'48 s'`` or ``'3 min 21 s'``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f'{seconds} s'
    return f'{seconds // 60} min {seconds % 60:02d} s'


def conditions_text(report: Dict[str, Any]) -> str:
    """Where and when: ``'2026-12-05, 2 CPU cores (Intel(R) Xeon(R)
    Processor) shared with other jobs, load average 2.31 at the start'``.
    """
    cond = report.get('conditions') or {}
    text = (f'{cond.get("date", "date unknown")}, {cond.get("cores", "?")} '
            f'CPU cores ({cond.get("cpu", "CPU unknown")}) shared with '
            'other jobs')
    if cond.get('load_before') is not None:
        text += f', load average {cond["load_before"]:.2f} at the start'
    return text
