# Copyright (c) OpenMMLab. All rights reserved.
"""Print the pruning coverage table of mmcls models (markdown).

Every model of :data:`mmrazor.testing.pruning_matrix.CASES` is analysed,
every prunable channel unit is pruned to ``--ratio`` of its channels (L1
norm), the static model is exported and checked; see
:mod:`mmrazor.testing.pruning_matrix`. The output is the table of
``docs/en/user_guides/pruning_coverage.md``.

Usage::

    PYTHONPATH=. python tools/pruning/coverage_table.py
        [--models resnet18 vgg11 ...] [--ratio 0.5] [--json OUT]

It exits with status 1 if a prunable model fails a check (parity,
reference, dynamic ops left, no drop of params or FLOPs). An existing
``OUT`` is never overwritten.
"""
import argparse
import os.path as osp
import sys
from typing import Any, Dict, List, Optional


def failures(record: Dict[str, Any]) -> List[str]:
    """The checks a record of a prunable model fails (none if not
    prunable)."""
    if not record['prunable']:
        return []
    failed = []
    if not record['parity_ok']:
        failed.append(f"parity (max diff {record['parity']:.2e})")
    if record['reference_ok'] is False:
        failed.append(f"reference (max diff {record['reference']:.2e})")
    if record['left']:
        failed.append(f"{record['left']} dynamic ops/mutables left")
    for key in ('params', 'flops'):
        before, after = record[key]
        if not after < before:
            failed.append(f'{key} did not drop ({before} -> {after})')
    return failed


def main(argv: Optional[List[str]] = None) -> int:
    from mmrazor.testing.pruning_matrix import (
        CASE_BY_NAME,
        coverage_table,
        run_matrix,
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', choices=list(CASE_BY_NAME),
                        metavar='NAME',
                        help=f'cases to run (default: all of '
                        f'{", ".join(CASE_BY_NAME)})')
    parser.add_argument('--ratio', type=float, default=0.5,
                        help='choice of every unit, in (0, 1]')
    parser.add_argument('--json', metavar='OUT',
                        help='also write the records to this new file')
    args = parser.parse_args(argv)
    if not 0 < args.ratio <= 1:
        parser.error(f'--ratio must be in (0, 1], got {args.ratio}')
    if args.json and osp.exists(args.json):
        parser.error(f'{args.json} exists; refusing to overwrite it')
    records = run_matrix(args.models, args.ratio)
    print(coverage_table(records))
    if args.json:
        from mmrazor.utils.atomic_file import atomic_dump_json
        atomic_dump_json(records, args.json, overwrite=False, indent=2)
    status = 0
    for record in records:
        for failure in failures(record):
            print(f"FAILED {record['name']}: {failure}", file=sys.stderr)
            status = 1
    return status


if __name__ == '__main__':
    sys.exit(main())
