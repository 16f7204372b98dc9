# Copyright (c) OpenMMLab. All rights reserved.
"""Metric predictors on the digits SPOS supernet: rank correlation with the
true scores, and a predictor-assisted search against the plain search.

1. train the digits SPOS supernet of ``tools/demo.py`` (or load one with
   ``--supernet``); by default with one choice per block (4^8 = 65536
   subnets) instead of the demo's one choice per layer (64 subnets);
2. evaluate ``--pool`` random subnets within the FLOPs budget (one
   generation of ``EvolutionSearchLoop``) and, over ``--splits`` random
   splits, fit each handler on ``--train-samples`` of them and measure the
   Kendall tau (and Spearman rho, RMSE) of its predictions on the rest;
3. run the evolution search twice with the same settings and seed: plain
   (every candidate evaluated) and with ``predictor_cfg`` (``--handler``
   fitted on ``--train-samples`` evaluated subnets, refitted each
   generation on its ``--verify-per-epoch`` best predicted subnets,
   evaluated; the ``--verify-top-k`` best predicted evaluated at the end),
   and report the best true score of each, how many subnets each
   evaluated, after how many evaluations the plain search first reached
   its best, and its best after as many evaluations as the predictor's.

Usage::

    python benchmarks/search_predictor.py [--json PATH]

About 10 minutes on 2 shared CPU cores (the supernet's 40 epochs take 2-3).
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time
from typing import Any, Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import _common  # noqa: E402  (sets OMP_WAIT_POLICY before torch)
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, osp.join(_common.REPO_ROOT, 'tools'))
import demo  # noqa: E402  (tools/demo.py: the digits configs and stages)

from mmrazor.registry import TASK_UTILS  # noqa: E402
from mmrazor.utils import register_all_modules  # noqa: E402

HANDLERS = {
    'GaussProcessHandler': dict(type='mmrazor.GaussProcessHandler'),
    'MLPHandler': dict(type='mmrazor.MLPHandler'),
    'RBFHandler': dict(type='mmrazor.RBFHandler'),
    'CartsHandler': dict(type='mmrazor.CartsHandler'),
}


def handler_cfg(name: str, args: argparse.Namespace) -> Dict[str, Any]:
    """The handler config of ``name`` with the command line's settings."""
    cfg = dict(HANDLERS[name])
    if name == 'CartsHandler':
        cfg['num_trees'] = args.cart_trees
    return cfg


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/search_predictor',
                        help='parent folder (a new timestamped folder is '
                        'made inside)')
    parser.add_argument('--supernet', help='a trained supernet checkpoint '
                        'of the same space (skips training)')
    parser.add_argument('--supernet-epochs', type=int, default=40)
    parser.add_argument('--per-layer', action='store_true',
                        help="the demo's space: one choice per layer")
    parser.add_argument('--flops-budget', type=float, default=1.62,
                        help='MFLOPs at 32x32')
    parser.add_argument('--pool', type=int, default=100,
                        help='random subnets evaluated for the correlation')
    parser.add_argument('--train-samples', type=int, default=20)
    parser.add_argument('--splits', type=int, default=5)
    parser.add_argument('--cart-trees', type=int, default=1000,
                        help='trees of CartsHandler (its default: 1000)')
    parser.add_argument('--handler', default='GaussProcessHandler',
                        choices=sorted(HANDLERS),
                        help='the handler of the predictor-assisted search')
    parser.add_argument('--verify-top-k', type=int, default=5,
                        help='best predicted subnets evaluated at the end')
    parser.add_argument('--verify-per-epoch', type=int, default=4,
                        help='best predicted subnets of each generation '
                        'evaluated, the predictor refitted on them')
    parser.add_argument('--generations', type=int, default=10)
    parser.add_argument('--population', type=int, default=20)
    parser.add_argument('--top-k', type=int, default=5)
    parser.add_argument('--calibrate', type=int, default=640,
                        help='BN calibration images per evaluation')
    parser.add_argument('--seed', type=int, default=0)
    _common.add_output_args(parser)
    args = parser.parse_args(argv)
    if args.supernet_epochs < 2:
        parser.error('--supernet-epochs must be >= 2 (one warm-up epoch, '
                     'then the cosine schedule)')
    if not 2 <= args.train_samples < args.pool:
        parser.error('--train-samples must be >= 2 and below --pool')
    _common.check_new_path(args.json)
    return args


def supernet_cfg(args: argparse.Namespace):
    """The demo's supernet config, per block unless ``--per-layer``."""
    cfg = demo.with_epochs(demo.demo_cfg('supernet'), args.supernet_epochs)
    if not args.per_layer:
        for row in cfg.model.architecture.backbone.arch_setting:
            row[2].pop('alias', None)
    return cfg


def search_cfg(args: argparse.Namespace, work_dir: str, ckpt: str,
               **loop: Any):
    """The demo's search config on ``ckpt`` with the benchmark's loop."""
    cfg = demo.demo_cfg('search')
    cfg.model = supernet_cfg(args).model
    cfg.train_cfg.update(
        dict(
            max_epochs=args.generations,
            num_candidates=args.population,
            top_k=args.top_k,
            num_mutation=args.population // 2,
            num_crossover=args.population // 2,
            mutate_prob=0.2,
            calibrate_sample_num=args.calibrate,
            constraints_range=dict(flops=(0., args.flops_budget))),
        **loop)
    cfg.work_dir = work_dir
    cfg.load_from = ckpt
    cfg.randomness = dict(seed=args.seed)
    cfg.log_level = 'WARNING'
    return cfg


def run_search(cfg) -> Dict[str, Any]:
    """Run one search; its records (in evaluation order) and wall time."""
    from mmengine.runner import Runner
    start = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    runner.train()
    loop = runner.train_loop
    return dict(loop=loop, records=list(loop.records.values()),
                seconds=time.perf_counter() - start)


def correlations(loop, records: List[Dict], args) -> Dict[str, Dict]:
    """Kendall tau, Spearman rho and RMSE of each handler, over splits."""
    rng = np.random.RandomState(args.seed)
    out: Dict[str, Dict] = {}
    for name in HANDLERS:
        taus, rhos, rmses, fits = [], [], [], []
        for _ in range(args.splits):
            order = rng.permutation(len(records))
            train = [records[i] for i in order[:args.train_samples]]
            test = [records[i] for i in order[args.train_samples:]]
            predictor = TASK_UTILS.build(
                dict(
                    type='mmrazor.MetricPredictor',
                    handler_cfg=handler_cfg(name, args),
                    search_groups=loop.choices))
            start = time.perf_counter()
            try:
                predictor.fit([r['choices'] for r in train],
                              [r['score'] for r in train])
            except ValueError as e:  # e.g. RBF on too few samples
                out[name] = dict(error=str(e))
                break
            fits.append(time.perf_counter() - start)
            pred = predictor.predict([r['choices'] for r in test])
            rmse, rho, tau = predictor.get_correlation(
                pred, [r['score'] for r in test])
            taus.append(tau)
            rhos.append(rho)
            rmses.append(rmse)
        if name in out:
            continue
        out[name] = dict(
            kendall_tau=statistics.mean(taus),
            kendall_tau_min=min(taus),
            kendall_tau_max=max(taus),
            spearman_rho=statistics.mean(rhos),
            rmse=statistics.mean(rmses),
            fit_seconds=statistics.mean(fits))
    return out


def evaluations_to_reach(records: List[Dict], score: float) -> int:
    """Evaluations made until the first one scoring at least ``score``."""
    evaluated = [r for r in records if not r.get('predicted')]
    for i, rec in enumerate(evaluated, 1):
        if rec['score'] >= score:
            return i
    return -1


def best_after(records: List[Dict], evaluations: int) -> float:
    """The best score among the first ``evaluations`` evaluations."""
    evaluated = [r['score'] for r in records if not r.get('predicted')]
    return max(evaluated[:evaluations])


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    register_all_modules(False)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    run_dir = osp.join(args.work_dir, time.strftime('%Y%m%d_%H%M%S'))
    if osp.exists(run_dir):
        sys.exit(f'{run_dir} already exists; wait a second and run again')
    start = time.perf_counter()

    ckpt = args.supernet
    if ckpt is None:
        print(f'[1/3] Training the supernet ({args.supernet_epochs} epochs, '
              f'{"per layer" if args.per_layer else "per block"})')
        cfg = supernet_cfg(args)
        cfg.work_dir = osp.join(run_dir, 'supernet')
        cfg.randomness = dict(seed=args.seed)
        demo.run_stage(cfg, 'supernet')
        ckpt = osp.join(cfg.work_dir, f'epoch_{args.supernet_epochs}.pth')
    t_supernet = time.perf_counter() - start

    print(f'[2/3] Evaluating {args.pool} random subnets; fitting each '
          f'handler on {args.train_samples} of them ({args.splits} splits)')
    pool = run_search(
        search_cfg(args, osp.join(run_dir, 'pool'), ckpt, max_epochs=1,
                   num_candidates=args.pool, top_k=1))
    scores = [r['score'] for r in pool['records']]
    corr = correlations(pool['loop'], pool['records'], args)
    for name, c in corr.items():
        if 'error' in c:
            print(f'  {name:20s} not fitted: {c["error"]}')
            continue
        print(f'  {name:20s} Kendall tau {c["kendall_tau"]:.3f} '
              f'({c["kendall_tau_min"]:.3f}-{c["kendall_tau_max"]:.3f}), '
              f'Spearman {c["spearman_rho"]:.3f}, RMSE {c["rmse"]:.2f}')

    print(f'[3/3] Evolution search, {args.generations} generations of '
          f'{args.population}: plain, then with a predictor ({args.handler})')
    plain = run_search(search_cfg(args, osp.join(run_dir, 'plain'), ckpt))
    predicted = run_search(
        search_cfg(
            args,
            osp.join(run_dir, 'predictor'),
            ckpt,
            predictor_cfg=dict(
                type='mmrazor.MetricPredictor',
                train_samples=args.train_samples,
                handler_cfg=handler_cfg(args.handler, args)),
            verify_top_k=args.verify_top_k,
            verify_per_epoch=args.verify_per_epoch))
    searches = {}
    for name, run in (('plain', plain), ('predictor', predicted)):
        evaluated = [r for r in run['records'] if not r.get('predicted')]
        best = run['loop'].best
        searches[name] = dict(
            best_score=best['score'],
            best_flops_m=best['resources']['flops'],
            best_choices=best['choices'],
            evaluated=len(evaluated),
            predicted=len(run['records']) - len(evaluated),
            seconds=run['seconds'])
    searches['plain']['evaluations_to_best'] = evaluations_to_reach(
        plain['records'], searches['plain']['best_score'])
    budget = searches['predictor']['evaluated']
    searches['plain']['best_at_predictor_budget'] = best_after(
        plain['records'], budget)
    for name, s in searches.items():
        print(f'  {name:9s} best {s["best_score"]:.2f}% at '
              f'{s["best_flops_m"]:.3f} MFLOPs; {s["evaluated"]} subnets '
              f'evaluated, {s["predicted"]} predicted; {s["seconds"]:.0f} s')
    print(f'  the plain search first reached its best after '
          f'{searches["plain"]["evaluations_to_best"]} evaluations; after '
          f'{budget} it had '
          f'{searches["plain"]["best_at_predictor_budget"]:.2f}%')

    report = dict(
        space='per layer' if args.per_layer else 'per block',
        search_space_size=int(
            np.prod([len(v) for v in pool['loop'].choices.values()])),
        supernet=ckpt,
        pool=dict(
            size=len(scores),
            score_min=min(scores),
            score_median=statistics.median(scores),
            score_max=max(scores)),
        correlation=corr,
        searches=searches,
        args=vars(args),
        supernet_seconds=t_supernet,
        total_seconds=time.perf_counter() - start,
        meta=_common.machine_meta(load_avg=True))
    if args.json:
        _common.write_json(args.json, report, announce=True)
    return report


if __name__ == '__main__':
    main()
