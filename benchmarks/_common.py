# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers shared by the benchmark scripts of this folder.

Importing this module sets ``OMP_WAIT_POLICY=PASSIVE`` when it is unset, so
that idle OpenMP threads do not spin; import it before torch for that to
take effect.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import random
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

# Must be set before torch (OpenMP) is loaded to take effect.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SPOS_DIR = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'spos')
SPOS_CONFIG = osp.join(SPOS_DIR, 'spos_shufflenet_supernet_8xb128_in1k.py')

Times = Dict[str, Dict[str, List[float]]]

# --------------------------------------------------------------------------
# Command line


def add_run_args(parser: argparse.ArgumentParser, seed_help: str,
                 bootstrap: bool) -> None:
    """Add ``--threads``, ``--bootstrap`` (if asked) and ``--seed``.

    Args:
        parser (argparse.ArgumentParser): The parser to extend.
        seed_help (str): Help text of ``--seed``.
        bootstrap (bool): Add ``--bootstrap`` (resamples of the ratio
            interval, 2000 by default).
    """
    parser.add_argument(
        '--threads', type=int, default=2, help='torch.set_num_threads')
    if bootstrap:
        parser.add_argument(
            '--bootstrap',
            type=int,
            default=2000,
            help='bootstrap resamples for the ratio interval')
    parser.add_argument('--seed', type=int, default=0, help=seed_help)


def add_output_args(parser: argparse.ArgumentParser,
                    target: Optional[float] = None,
                    which: str = 'a') -> None:
    """Add ``--json`` and, with a ``target``, ``--strict``.

    Args:
        parser (argparse.ArgumentParser): The parser to extend.
        target (float, optional): The target ratio, shown in the help of
            ``--strict``; None adds no ``--strict``.
        which (str): ``'a'`` or ``'the'``, as in "when a ratio exceeds".
    """
    parser.add_argument(
        '--json', metavar='PATH', help='write the figures to this file')
    if target is not None:
        parser.add_argument(
            '--strict',
            action='store_true',
            help=f'exit with status 1 also when {which} ratio exceeds the '
            f'target ({target})')


def require_positive(parser: argparse.ArgumentParser,
                     args: argparse.Namespace, names: Sequence[str]) -> None:
    """Exit with a usage error if an option of ``names`` is below 1.

    Args:
        parser (argparse.ArgumentParser): The parser that reports the error.
        args (argparse.Namespace): The parsed options.
        names (Sequence[str]): Attribute names, e.g. ``'input_size'`` for
            ``--input-size``.
    """
    for name in names:
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')


# --------------------------------------------------------------------------
# Set-up and output


def setup_torch(threads: int, seed: int) -> None:
    """Set the torch threads and seed torch and :mod:`random`.

    Args:
        threads (int): Passed to ``torch.set_num_threads``.
        seed (int): Seed of ``torch`` and ``random``.
    """
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    random.seed(seed)


def build_supernet(config: str) -> nn.Module:
    """Build the ``supernet`` classifier of ``config`` in eval mode.

    Args:
        config (str): Path of a config that defines ``supernet``.

    Returns:
        nn.Module: The supernet (random weights, eval mode).
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import mmrazor  # noqa: F401  (registers the mmrazor modules)
    from mmrazor.registry import MODELS

    cfg = Config.fromfile(config)
    # The config's modules are mmcls ones unless they name another scope.
    with DefaultScope.overwrite_default_scope('mmcls'):
        model = MODELS.build(cfg.supernet)
    return model.eval()


def machine_meta(load_avg: bool = False) -> Dict[str, Any]:
    """Describe the machine and the torch set-up of this run.

    Args:
        load_avg (bool): Also record ``os.getloadavg()`` (None where the
            platform lacks it) as ``load_avg``.

    Returns:
        dict: ``date``, ``torch``, ``python``, ``machine``, ``processor``,
        ``cpu_count``, ``load_avg`` (if asked), ``threads`` and
        ``omp_wait_policy``, in that order.
    """
    meta: Dict[str, Any] = dict(
        date=datetime.datetime.now().astimezone().isoformat(
            timespec='seconds'),
        torch=torch.__version__,
        python=platform.python_version(),
        machine=platform.machine(),
        processor=platform.processor(),
        cpu_count=os.cpu_count())
    if load_avg:
        meta['load_avg'] = (
            os.getloadavg() if hasattr(os, 'getloadavg') else None)
    meta.update(
        threads=torch.get_num_threads(),
        omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'))
    return meta


def machine_line(meta: Dict[str, Any]) -> str:
    """The opening of the first printed line, from :func:`machine_meta`.

    Args:
        meta (dict): The figures of :func:`machine_meta`.

    Returns:
        str: ``'torch V, threads T, N CPUs, OMP_WAIT_POLICY=P'``.
    """
    return (f'torch {meta["torch"]}, threads {meta["threads"]}, '
            f'{meta["cpu_count"]} CPUs, '
            f'OMP_WAIT_POLICY={meta["omp_wait_policy"]}')


def check_new_path(path: Optional[str]) -> None:
    """Refuse to overwrite: raise if ``path`` is given and exists.

    Args:
        path (str, optional): The ``--json`` path, or None.

    Raises:
        FileExistsError: If ``path`` exists.
    """
    if path and osp.exists(path):
        raise FileExistsError(f'{path} already exists; choose another '
                              '--json path')


def write_json(path: str, report: Dict[str, Any], announce: bool) -> None:
    """Write ``report`` to ``path`` (a new file) as indented JSON.

    Args:
        path (str): Where to write; its folders are made if missing.
        report (dict): The figures.
        announce (bool): Print ``figures written to PATH`` afterwards.

    Raises:
        FileExistsError: If ``path`` exists.
    """
    check_new_path(path)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(report, f, indent=2)
    if announce:
        print(f'figures written to {path}')


# --------------------------------------------------------------------------
# Timing and statistics


def time_rounds(calls: Dict[str, Callable[[], Any]], repeats: int,
                warmup: int) -> Times:
    """Time one call of every function per round, interleaved.

    Each of the ``repeats`` rounds runs every function once, rotating which
    one goes first (AB, BA, ... or ABC, BCA, CAB, ...), so that none always
    runs right after the same other one. Every call is timed with the wall
    clock (``time.perf_counter``) and with the CPU time of the process, all
    threads together (``time.process_time``), which other processes on a
    shared machine disturb less.

    Args:
        calls (dict[str, Callable]): The functions by name.
        repeats (int): Timed rounds.
        warmup (int): Untimed rounds first.

    Returns:
        dict: ``{name: {'wall': [s], 'cpu': [s]}}``, one value per round.
    """
    names = list(calls)
    for _ in range(warmup):
        for name in names:
            calls[name]()
    times: Times = {name: dict(wall=[], cpu=[]) for name in names}
    for i in range(repeats):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            cpu_start = time.process_time()
            start = time.perf_counter()
            calls[name]()
            end = time.perf_counter()
            times[name]['cpu'].append(time.process_time() - cpu_start)
            times[name]['wall'].append(end - start)
    return times


def percentile(values: Sequence[float], q: float) -> float:
    """Percentile ``q`` (0-100) of ``values``, interpolated linearly.

    Args:
        values (Sequence[float]): At least one value.
        q (float): The percentile, in [0, 100].

    Returns:
        float: The percentile.
    """
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summarize(wall: Sequence[float],
              cpu: Sequence[float]) -> Dict[str, float]:
    """Latency statistics, in milliseconds.

    Args:
        wall (Sequence[float]): Wall-clock times, in seconds.
        cpu (Sequence[float]): CPU times, in seconds.

    Returns:
        dict: ``n``, ``median_ms``, ``p10_ms``, ``p90_ms``, ``min_ms`` and
        ``mean_ms`` of the wall-clock times, and ``cpu_median_ms``.
    """
    ms = [t * 1e3 for t in wall]
    return dict(
        n=len(ms),
        median_ms=statistics.median(ms),
        p10_ms=percentile(ms, 10),
        p90_ms=percentile(ms, 90),
        min_ms=min(ms),
        mean_ms=statistics.fmean(ms),
        cpu_median_ms=statistics.median(cpu) * 1e3)


def bootstrap_ratio(num: Sequence[float], den: Sequence[float],
                    resamples: int, seed: int) -> Optional[List[float]]:
    """95% bootstrap interval of ``median(num) / median(den)``.

    The pairs ``(num[i], den[i])`` are resampled together, since they were
    measured back to back.

    Args:
        num (Sequence[float]): Times of the numerator, one per round.
        den (Sequence[float]): Times of the denominator, one per round.
        resamples (int): Bootstrap resamples; 0 skips the interval.
        seed (int): Seed of the resampling.

    Returns:
        list[float] | None: ``[low, high]``, or None if ``resamples`` is 0.
    """
    if resamples == 0:
        return None
    rng = random.Random(seed)
    n = len(num)
    ratios = []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        ratios.append(
            statistics.median(num[i] for i in idx) /
            statistics.median(den[i] for i in idx))
    return [percentile(ratios, 2.5), percentile(ratios, 97.5)]


def compare(num: Dict[str, List[float]], den: Dict[str, List[float]],
            resamples: int, seed: int, target: float) -> Dict[str, Any]:
    """Ratios ``num / den`` of two entries of :func:`time_rounds`.

    Args:
        num (dict): ``{'wall': [s], 'cpu': [s]}`` of the numerator.
        den (dict): The same for the denominator.
        resamples (int): Bootstrap resamples (see :func:`bootstrap_ratio`).
        seed (int): Seed of the bootstrap.
        target (float): The target of the ratio of medians.

    Returns:
        dict: ``ratio_median`` (of the wall-clock medians, the headline
        figure), ``ratio_bootstrap95``, ``ratio_min`` (of the minima),
        ``ratio_paired_median`` (median of the per-round ratios),
        ``ratio_cpu_median`` (of the CPU-time medians), ``within_target``
        and ``verdict``: ``'OK'``; ``'above target, within noise'`` when
        the bootstrap interval still reaches the target; else
        ``'ABOVE TARGET'``.
    """
    ratio = statistics.median(num['wall']) / statistics.median(den['wall'])
    ci = bootstrap_ratio(num['wall'], den['wall'], resamples, seed)
    result = dict(
        ratio_median=ratio,
        ratio_bootstrap95=ci,
        ratio_min=min(num['wall']) / min(den['wall']),
        ratio_paired_median=statistics.median(
            a / b for a, b in zip(num['wall'], den['wall'])),
        ratio_cpu_median=statistics.median(num['cpu']) /
        statistics.median(den['cpu']),
        within_target=ratio <= target)
    if result['within_target']:
        result['verdict'] = 'OK'
    elif ci is not None and ci[0] <= target:
        result['verdict'] = 'above target, within noise'
    else:
        result['verdict'] = 'ABOVE TARGET'
    return result


# --------------------------------------------------------------------------
# Tables

STATS_HEADER = (f'{"median ms":>10} {"p10 ms":>9} {"p90 ms":>9} '
                f'{"min ms":>9} {"cpu ms":>9}')


def stats_cells(s: Dict[str, float]) -> str:
    """The cells of one row of :func:`summarize` figures.

    Args:
        s (dict): The figures of :func:`summarize`.

    Returns:
        str: Median, p10, p90, min and CPU median, aligned with
        :data:`STATS_HEADER`.
    """
    return (f'{s["median_ms"]:>10.2f} {s["p10_ms"]:>9.2f} '
            f'{s["p90_ms"]:>9.2f} {s["min_ms"]:>9.2f} '
            f'{s["cpu_median_ms"]:>9.2f}')


def ratio_lines(label: str,
                ratios: Dict[str, Any],
                target: Optional[float],
                first: str = '',
                rest: str = '') -> List[str]:
    """Two lines for the ratios of :func:`compare`.

    Args:
        label (str): What is compared, e.g. ``'distill/plain'``.
        ratios (dict): The figures of :func:`compare`.
        target (float, optional): The target and verdict are shown when
            given; None marks an A/A control (``(noise floor)``).
        first (str): Text after the indent of the first line.
        rest (str): Text after the indent of the second line.

    Returns:
        list[str]: The ratio of medians (with its bootstrap interval), then
        the sanity ratios.
    """
    ci = ratios['ratio_bootstrap95']
    ci_text = f' [bootstrap 95% {ci[0]:.3f}-{ci[1]:.3f}]' if ci else ''
    tail = (f' (target <= {target}) -> {ratios["verdict"]}'
            if target is not None else ' (noise floor)')
    return [
        f'  {first}ratio {label} of medians {ratios["ratio_median"]:.3f}'
        f'{ci_text}{tail}',
        f'  {rest}sanity ratios: min {ratios["ratio_min"]:.3f}, median of '
        f'pairs {ratios["ratio_paired_median"]:.3f}, cpu time '
        f'{ratios["ratio_cpu_median"]:.3f}'
    ]
