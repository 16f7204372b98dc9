# Copyright (c) OpenMMLab. All rights reserved.
"""What a search leaves behind: its state, a table and a Pareto plot."""
import csv
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from mmengine.logging import print_log

from mmrazor.utils.atomic_file import atomic_dump_json, atomic_open


def write_json_atomic(data: Dict[str, Any], path: str) -> None:
    """Write ``data`` as JSON to ``path`` atomically, so that a run killed
    while writing never leaves a truncated state behind."""
    atomic_dump_json(data, path, indent=1)


def write_candidates_table(records: Sequence[Dict[str, Any]],
                           path: str) -> None:
    """Write every evaluated candidate (one row each) to a csv file.

    Columns: ``rank`` (by score), ``epoch`` (when it was first evaluated),
    ``score``, one column per resource, then ``choices`` (the subnet as
    JSON). When a metric predictor scored some (their records hold
    ``predicted_score``), two more columns follow: ``predicted`` (whether
    ``score`` is the prediction, not an evaluation) and
    ``predicted_score``; evaluated subnets rank before predicted ones.
    """
    resource_keys: List[str] = sorted(
        {k for r in records for k in r.get('resources', {})})
    with_predictor = any('predicted_score' in r for r in records)
    extra = ['predicted', 'predicted_score'] if with_predictor else []
    with atomic_open(path, newline='') as f:
        writer = csv.writer(f)
        writer.writerow(
            ['rank', 'epoch', 'score', *resource_keys, 'choices', *extra])
        # Evaluated subnets rank before predicted ones.
        ranked = sorted(
            records, key=lambda r: (bool(r.get('predicted')), -r['score']))
        for rank, rec in enumerate(ranked, 1):
            row = [
                rank, rec['epoch'], rec['score'],
                *[rec['resources'].get(k) for k in resource_keys],
                json.dumps(rec['choices'], sort_keys=True)
            ]
            if with_predictor:
                row += [bool(rec.get('predicted')),
                        rec.get('predicted_score', '')]
            writer.writerow(row)


def plot_pareto(records: Sequence[Dict[str, Any]],
                path: str,
                best_key: Optional[str] = None,
                resource: str = 'flops',
                score_key: str = 'score',
                budget: Optional[Sequence[float]] = None,
                unit: Optional[str] = None) -> bool:
    """Plot score against a resource for every candidate, marking the best.

    Args:
        records (Sequence[dict]): Evaluated candidates with ``key``,
            ``score`` and ``resources``.
        path (str): Where to write the PNG.
        best_key (str, optional): Key of the chosen subnet, drawn as a star.
        resource (str): The resource on the x axis. Defaults to 'flops'.
        score_key (str): Label of the y axis. Defaults to 'score'.
        budget (Sequence[float], optional): The (min, max) constraint on the
            resource, drawn as vertical lines.
        unit (str, optional): Unit of the resource, for the axis label.

    Returns:
        bool: Whether the plot was written (False without matplotlib).
    """
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print_log(
            'matplotlib is not installed: no Pareto plot is written '
            '(pip install matplotlib)',
            logger='current')
        return False
    points = [(r['resources'].get(resource), r['score'], r['key'])
              for r in records if r['resources'].get(resource) is not None]
    if not points:
        return False
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ax.scatter([p[0] for p in points], [p[1] for p in points],
               s=12, alpha=0.6, label='evaluated subnets')
    front, best_so_far = [], float('-inf')
    for x, y, _ in sorted(points, key=lambda p: (p[0], -p[1])):
        if y > best_so_far:
            front.append((x, y))
            best_so_far = y
    ax.plot([p[0] for p in front], [p[1] for p in front], 'g-', lw=1,
            label='Pareto front')
    for x, y, key in points:
        if key == best_key:
            ax.scatter([x], [y], marker='*', s=200, c='red', zorder=3,
                       label='chosen subnet')
            break
    if budget is not None:
        for bound in budget:
            if bound is not None and bound > 0:
                ax.axvline(bound, color='grey', ls='--', lw=0.8)
    ax.set_xlabel(f'{resource} ({unit})' if unit else resource)
    ax.set_ylabel(score_key)
    ax.legend(loc='lower right', fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_open(path, 'wb') as f:
        fig.savefig(f, format=osp.splitext(path)[1][1:] or 'png')
    plt.close(fig)
    return True
