# Copyright (c) OpenMMLab. All rights reserved.
"""Evolution search of the digits SPOS supernet on 1 vs 2 gloo ranks.

What a second rank buys a search: ``EvolutionSearchLoop`` evaluates each
candidate data-parallel (every rank scores its shard of the validation set,
metrics are gathered), so the per-candidate time should fall towards half,
and the search must find the same best subnet with the same scores.

The script trains the digits supernet briefly (``--supernet-epochs``), then
runs the search config (``configs/nas/mmcls/spos/demo/
spos_shufflenet_search_digits.py``, widened to every subnet of the space
and ``--generations`` generations so that it evaluates enough candidates)
as whole ``tools/train.py`` processes, 1 thread per rank: one rank, two
ranks (``tools/dist_train.sh``, gloo), and one rank again (the A/A
control), ``--repeats`` times, in the order 1, 2, 1'. Figures: the median
wall time of each, the ratios 2/1 and 1'/1, and whether every run found the
same best subnet and the same candidate scores as the first one. The wall
time includes starting the processes and building the model; the search
loop alone (from loading the checkpoint to the end of the search, from the
log's timestamps) is reported beside it.

Usage::

    python benchmarks/search_ranks.py [--repeats 2] [--json out.json]
"""
import argparse
import datetime
import os
import os.path as osp
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from _common import REPO_ROOT, add_output_args, machine_meta  # noqa: E402

DEMO = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'spos', 'demo')
RESULT_FILES = ('best_fix_subnet.yaml', 'search_candidates.csv')


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run(cmd: List[str], log: str, **env: str) -> float:
    """Run ``cmd`` from the repository root; its wall time in seconds.

    Raises:
        RuntimeError: With the end of the log, if it fails.
    """
    full_env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
                    OMP_WAIT_POLICY='PASSIVE', PYTHON=sys.executable, **env)
    start = time.perf_counter()
    with open(log, 'w') as out:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=full_env, stdout=out,
                              stderr=subprocess.STDOUT)
    took = time.perf_counter() - start
    if proc.returncode:
        with open(log) as f:
            tail = ''.join(f.readlines()[-30:])
        raise RuntimeError(f'{" ".join(cmd)} exited with {proc.returncode}:'
                           f'\n{tail}\n(log: {log})')
    return took


def _loop_seconds(log: str) -> float:
    """Seconds from loading the checkpoint to the end of the search, from
    the timestamps of the run's log (1 s resolution)."""
    stamps = {}
    with open(log) as f:
        for line in f:
            for key, marker in (('start', 'Load checkpoint from'),
                                ('end', 'Search finished')):
                if marker in line and key not in stamps:
                    stamps[key] = datetime.datetime.strptime(
                        line[:14], '%m/%d %H:%M:%S')
    if len(stamps) != 2:
        raise RuntimeError(f'{log}: no start or end of the search found')
    return (stamps['end'] - stamps['start']).total_seconds()


def _results(work_dir: str) -> Dict[str, str]:
    out = {}
    for name in RESULT_FILES:
        with open(osp.join(work_dir, name)) as f:
            out[name] = f.read()
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=2,
                        help='rounds of 1, 2, 1\' ranks')
    parser.add_argument('--supernet-epochs', type=int, default=2)
    parser.add_argument('--generations', type=int, default=6,
                        help='evolution generations of the search')
    parser.add_argument('--work-dir', default=None,
                        help='where the runs go (default: a temporary '
                        'folder, removed at the end)')
    add_output_args(parser)
    parser.add_argument('--strict', action='store_true',
                        help='exit with status 1 when a run found another '
                        'best subnet or other scores than the first')
    args = parser.parse_args(argv)
    for name in ('repeats', 'supernet_epochs', 'generations'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    tmp = None
    if args.work_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix='search_ranks_')
        work = tmp.name
    else:
        work = args.work_dir
        if osp.exists(work) and os.listdir(work):
            parser.error(f'--work-dir {work} is not empty; give a new one')
        os.makedirs(work, exist_ok=True)
    meta = machine_meta(load_avg=True)

    train = [sys.executable, 'tools/train.py']
    supernet_dir = osp.join(work, 'supernet')
    print(f'Training the digits supernet for {args.supernet_epochs} '
          'epoch(s)...', flush=True)
    _run(train + [osp.join(DEMO, 'spos_shufflenet_supernet_digits.py'),
                  '--work-dir', supernet_dir, '--cfg-options',
                  f'train_cfg.max_epochs={args.supernet_epochs}',
                  f'train_cfg.val_interval={args.supernet_epochs}'],
         osp.join(work, 'supernet.log'))
    with open(osp.join(supernet_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    search_cfg = osp.join(DEMO, 'spos_shufflenet_search_digits.py')
    options = ['--cfg-options', f'load_from={checkpoint}',
               f'train_cfg.max_epochs={args.generations}',
               'train_cfg.constraints_range.flops=[0.0,10.0]',
               'env_cfg.dist_cfg.backend=gloo',
               'env_cfg.dist_cfg.timeout=300']

    times: Dict[str, List[float]] = {'1': [], '2': [], "1'": []}
    loops: Dict[str, List[float]] = {'1': [], '2': [], "1'": []}
    same = True
    reference = None
    for rep in range(args.repeats):
        for kind in ('1', '2', "1'"):
            run_dir = osp.join(work, f'r{rep}_{kind.replace(chr(39), "b")}')
            log = run_dir + '.log'
            if kind == '2':
                cmd = ['bash', 'tools/dist_train.sh', search_cfg, '2',
                       '--work-dir', run_dir] + options
                took = _run(cmd, log, PORT=str(_port()))
            else:
                took = _run(train + [search_cfg, '--work-dir', run_dir] +
                            options, log)
            times[kind].append(took)
            loops[kind].append(_loop_seconds(log))
            results = _results(run_dir)
            reference = reference or results
            match = results == reference
            same = same and match
            print(f'round {rep + 1}, {kind} rank(s): {took:.1f} s '
                  f'(search loop {loops[kind][-1]:.0f} s)'
                  f'{"" if match else "  (results DIFFER from the first)"}',
                  flush=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    lmed = {k: statistics.median(v) for k, v in loops.items()}
    report: Dict[str, Any] = dict(
        meta=meta, repeats=args.repeats, generations=args.generations,
        supernet_epochs=args.supernet_epochs, wall_s=times,
        median_wall_s=med, ratio_2_over_1=med['2'] / med['1'],
        ratio_aa=med["1'"] / med['1'], loop_s=loops,
        median_loop_s=lmed, loop_ratio_2_over_1=lmed['2'] / lmed['1'],
        loop_ratio_aa=lmed["1'"] / lmed['1'], same_results=same,
        evaluated=reference['search_candidates.csv'].count('\n') - 1)
    print(f'\nEvolution search, digits supernet, {args.generations} '
          f'generations, {report["evaluated"]} candidates evaluated, 1 '
          f'thread per rank ({args.repeats} round(s); whole processes):')
    for kind, label in (('1', '1 rank'), ('2', '2 ranks'),
                        ("1'", '1 rank again (A/A)')):
        print(f'  {label:20s} median {med[kind]:6.1f} s, search loop '
              f'{lmed[kind]:5.1f} s')
    print(f'  ratio 2 ranks / 1 rank: {report["ratio_2_over_1"]:.3f} '
          f'(A/A control {report["ratio_aa"]:.3f}); search loop alone '
          f'{report["loop_ratio_2_over_1"]:.3f} (A/A '
          f'{report["loop_ratio_aa"]:.3f})')
    print('  best subnet and candidate scores identical in every run: '
          f'{"yes" if same else "NO"}')
    if args.json:
        from mmrazor.utils.atomic_file import atomic_dump_json
        atomic_dump_json(report, args.json, indent=2)
    if tmp is not None:
        tmp.cleanup()
    if args.strict and not same:
        sys.exit(1)
    return report


if __name__ == '__main__':
    main()
