# Copyright (c) OpenMMLab. All rights reserved.
"""What AutoSlim's greedy search leaves behind: a summary and a plot.

The summary compares the subnets the search found for its FLOPs targets
with the network slimmed uniformly (every unit at the same share of its
choices), scored on the same data with the same BN recalibration; the plot
draws both, with the greedy path between them.
"""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from mmengine.logging import print_log

from mmrazor.utils.atomic_file import atomic_open


def uniform_indices(choices: Dict[str, Sequence[Any]], level: int,
                    levels: int, min_index: int = 0) -> Dict[str, int]:
    """Choice indices of every unit at the uniform width ``level/levels``.

    A unit with ``n`` choices takes its ``round(level / levels * n)``-th
    choice (1-based), clipped to ``[min_index, n - 1]`` (0-based), so units
    with as many choices as ``levels`` take choice ``level - 1``.

    Args:
        choices: ``{unit: [choices, smallest first]}``.
        level: From 1 (narrowest) to ``levels`` (full width).
        levels: Number of uniform widths.
        min_index: Smallest index a unit may take.

    Returns:
        ``{unit: index}``.

    Examples:
        >>> uniform_indices({'a': [1, 2, 3, 4], 'b': [8, 16]}, 2, 4)
        {'a': 1, 'b': 0}
    """
    indices = {}
    for unit, unit_choices in choices.items():
        n = len(unit_choices)
        index = round(level / levels * n) - 1
        indices[unit] = min(n - 1, max(min_index, index))
    return indices


def _fmt_amount(value: Optional[float], unit: str) -> str:
    return '-' if value is None else f'{value:.3f} {unit}'.rstrip()


def summary_lines(summary: Dict[str, Any]) -> List[str]:
    """The search's summary as a text table, one line per row.

    Args:
        summary: As written by ``AutoSlimGreedySearchLoop``: ``flops_unit``,
            ``params_unit``, ``score_key``, ``steps``, ``scored``, ``start``
            (full width), ``targets`` (one row per target: ``target``,
            ``flops``, ``params``, ``score``, ``step``, ``subnet``) and
            ``uniform`` (one row per uniform width: ``width``, ``flops``,
            ``params``, ``score``).

    Returns:
        The lines of the table.
    """
    flops_unit = f'{summary["flops_unit"]}FLOPs'
    params_unit = summary['params_unit']
    lines = [
        f'AutoSlim greedy search: {summary["steps"]} steps, '
        f'{summary["scored"]} subnets scored ({summary["score_key"]})',
        f'{"subnet":<24} {"FLOPs":>14} {"params":>10} {"score":>7}  file',
    ]
    start = summary['start']
    lines.append(
        f'{"full width":<24} {_fmt_amount(start["flops"], flops_unit):>14} '
        f'{_fmt_amount(start["params"], params_unit):>10} '
        f'{start["score"]:>7.2f}')
    for row in summary['targets']:
        name = f'target {row["target"]:g} {flops_unit}'
        lines.append(
            f'{name:<24} {_fmt_amount(row["flops"], flops_unit):>14} '
            f'{_fmt_amount(row["params"], params_unit):>10} '
            f'{row["score"]:>7.2f}  {osp.basename(row["subnet"])}')
    for row in summary['uniform']:
        name = f'uniform width {row["width"]}'
        lines.append(
            f'{name:<24} {_fmt_amount(row["flops"], flops_unit):>14} '
            f'{_fmt_amount(row["params"], params_unit):>10} '
            f'{row["score"]:>7.2f}')
    return lines


def plot_greedy_search(summary: Dict[str, Any],
                       history: Sequence[Dict[str, Any]], path: str) -> bool:
    """Plot score against FLOPs: the greedy path, the subnets found for the
    targets and the uniformly slimmed network.

    Args:
        summary: See :func:`summary_lines`.
        history: The search's steps, each with ``flops`` and ``score``.
        path: Where to write the PNG.

    Returns:
        Whether the plot was written (False without matplotlib).
    """
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print_log(
            'matplotlib is not installed: no plot of the greedy search is '
            'written (pip install matplotlib)',
            logger='current')
        return False
    start = summary['start']
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    path_x = [start['flops']] + [s['flops'] for s in history]
    path_y = [start['score']] + [s['score'] for s in history]
    ax.plot(path_x, path_y, '-', color='0.6', lw=1, marker='.', ms=4,
            label='greedy path (one step per point)')
    uniform = sorted(summary['uniform'], key=lambda r: r['flops'])
    ax.plot([r['flops'] for r in uniform], [r['score'] for r in uniform],
            's--', color='tab:blue', label='uniform width')
    for row in uniform:
        ax.annotate(row['width'], (row['flops'], row['score']),
                    textcoords='offset points', xytext=(4, -10), fontsize=7,
                    color='tab:blue')
    targets = summary['targets']
    ax.scatter([r['flops'] for r in targets], [r['score'] for r in targets],
               marker='*', s=160, c='tab:red', zorder=3,
               label='found subnets')
    for row in targets:
        ax.axvline(row['target'], color='tab:red', ls=':', lw=0.8)
    ax.set_xlabel(f'{summary["flops_unit"]}FLOPs')
    ax.set_ylabel(summary['score_key'])
    ax.set_title('AutoSlim greedy search')
    ax.legend(loc='best', fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_open(path, 'wb') as f:
        fig.savefig(f, format='png')
    plt.close(fig)
    return True
