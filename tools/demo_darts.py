# Copyright (c) OpenMMLab. All rights reserved.
"""DARTS on scikit-learn's digits, on the CPU, in minutes.

1. search a tiny DARTS cell space (5 cells of 3 nodes, C=8, 6 ops per edge,
   8x8 images) with the second-order architecture step
   (``configs/nas/mmcls/darts/demo/darts_supernet_digits.py``);
2. derive the genotype (the most probable op of every edge, ``zero`` left
   out, and the 2 strongest incoming edges of every node), print it and
   draw both cells as the DARTS paper does (``genotype.png``);
3. for each seed, retrain the derived genotype and a random genotype of the
   same space (drawn with that seed: a random non-``zero`` op per edge, 2
   random edges per node) with the same seed, data, epochs and schedule
   (``darts_subnet_digits.py``);
4. report both accuracies per seed, their means and standard deviations.

Usage::

    OMP_WAIT_POLICY=PASSIVE python tools/demo_darts.py [--work-dir DIR]

``--quick`` runs every stage for one epoch on a few images (a smoke test;
its accuracies mean nothing). Every run writes into a new timestamped
folder of ``--work-dir``: the subnet yamls, ``genotype.png`` and
``report.json``. An accuracy is the val top-1 after the last epoch.
"""
import argparse
import math
import os
import os.path as osp
import random
import statistics
import sys
import time
from typing import Dict, List, Optional, Tuple

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402
from demo_distill import mean_std  # noqa: E402
from demo_distill import run_with_progress as run  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmrazor  # noqa: E402,F401
from mmrazor.registry import TASK_UTILS  # noqa: E402
from mmrazor.structures import save_subnet_file  # noqa: E402
from mmrazor.utils import register_all_modules  # noqa: E402
from mmrazor.utils.atomic_file import atomic_dump_json  # noqa: E402
from mmrazor.utils.model_wrappers import unwrap_model  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_DIR = osp.join(REPO, 'configs', 'nas', 'mmcls', 'darts', 'demo')
EXCLUDE = ('zero', )
#: One cell type: ``[(node, [(op, input), ...]), ...]``; inputs 0 and 1 are
#: the cell inputs c_{k-2} and c_{k-1}, input j >= 2 is node j.
Cell = List[Tuple[int, List[Tuple[str, int]]]]


def set_epochs(cfg: Config, epochs: int) -> Config:
    """Set the epochs of ``cfg`` and stretch its cosine schedules (a list,
    or a dict of lists per optimizer) over them."""
    cfg.train_cfg.max_epochs = epochs
    scheds = cfg.param_scheduler
    for sched in (sum(scheds.values(), []) if isinstance(scheds, dict)
                  else scheds):
        if sched.type == 'CosineAnnealingLR':
            sched.T_max = sched.end = epochs
    return cfg


def _std(values: List[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def final_accuracy(runner: Runner) -> float:
    return float(runner.message_hub.get_scalar('val/accuracy/top1').current())


def genotype(subnet: Dict) -> Dict[str, Cell]:
    """The cells of a DARTS subnet (``{alias: {'chosen': [...]}}``):
    ``{'normal': cell, 'reduce': cell}``, nodes in order."""
    cells: Dict[str, Cell] = {}
    for kind in ('normal', 'reduce'):
        node = 2
        cell: Cell = []
        while f'{kind}_n{node}' in subnet:
            edges = subnet[f'{kind}_n{node}']['chosen']
            cell.append((node, sorted(
                ((subnet[e]['chosen'][0], int(e.rsplit('_p', 1)[1]))
                 for e in edges), key=lambda edge: edge[1])))
            node += 1
        cells[kind] = cell
    return cells


def format_cell(cell: Cell) -> str:
    """``[('sep_conv_3x3', 0), ...]`` per node, as the paper's code prints
    genotypes (input 0, 1: the cell inputs; j >= 2: node j - 2)."""
    return ', '.join(f'({op!r}, {j})' for _, edges in cell
                     for op, j in edges)


def random_subnet(algo, seed: int) -> Dict:
    """A random genotype of ``algo``'s space: a random op (not ``zero``)
    per edge and ``num_chosen`` random incoming edges per node."""
    rng = random.Random(seed)
    subnet = {}
    for key, group in algo.nas_mutator.search_groups.items():
        mutable = group[0]
        if hasattr(mutable, 'num_chosen'):  # a node's route
            picked = set(rng.sample(mutable.choices, mutable.num_chosen))
            chosen = [c for c in mutable.choices if c in picked]
        else:
            chosen = [rng.choice(
                [c for c in mutable.choices if c not in EXCLUDE])]
        subnet[key] = dict(chosen=chosen)
    return subnet


_OP_COLORS = {'sep': 'tab:blue', 'dil': 'tab:purple', 'max': 'tab:red',
              'avg': 'tab:orange', 'ski': 'tab:green'}


def _draw_cell(ax, kind: str, cell: Cell) -> None:
    n = len(cell)
    # inputs on the left, the nodes in a column, the output on the right;
    # edges between nodes bulge to the right of the column
    pos = {0: (0., 1.3), 1: (0., -1.3)}
    pos.update({k: (4.4, 0.9 * (n - 1) - 1.8 * i)
                for i, (k, _) in enumerate(cell)})
    out = (7.2, 0.)
    for k, edges in cell:
        for op, j in edges:
            (x0, y0), (x1, y1) = pos[j], pos[k]
            rad = -0.45 if j >= 2 else 0.
            color = _OP_COLORS.get(op[:3], 'k')
            ax.annotate('', xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle='-|>', lw=1.5,
                                        color=color, shrinkA=15, shrinkB=15,
                                        connectionstyle=f'arc3,rad={rad}'))
            # the label on matplotlib's arc3 curve (a quadratic Bezier with
            # control point mid + rad * (dy, -dx); equal aspect), along the
            # chord: near the target on straight edges, where they fan out
            t = 0.5 if rad else 0.62
            cx = (x0 + x1) / 2 + rad * (y1 - y0)
            cy = (y0 + y1) / 2 - rad * (x1 - x0)
            angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
            ax.text((1 - t)**2 * x0 + 2 * t * (1 - t) * cx + t * t * x1,
                    (1 - t)**2 * y0 + 2 * t * (1 - t) * cy + t * t * y1,
                    op, fontsize=7,
                    ha='center', va='center', color=color,
                    rotation=angle, rotation_mode='anchor',
                    bbox=dict(fc='white', ec='none', alpha=0.85, pad=0.4))
        ax.annotate('', xy=out, xytext=pos[k],
                    arrowprops=dict(arrowstyle='-|>', color='grey', lw=1,
                                    shrinkA=14, shrinkB=16))
    for k, (x, y) in pos.items():
        text = ('$c_{k-2}$', '$c_{k-1}$')[k] if k < 2 else str(k - 2)
        ax.text(x, y, text, ha='center', va='center', fontsize=11,
                bbox=dict(boxstyle='round', ec='k',
                          fc='palegreen' if k < 2 else 'lightblue'))
    ax.text(*out, '$c_{k}$', ha='center', va='center', fontsize=11,
            bbox=dict(boxstyle='round', fc='khaki', ec='k'))
    ax.set_xlim(-0.6, out[0] + 0.6)
    ax.set_ylim(-0.9 * n - 0.4, 0.9 * n + 0.4)
    ax.set_aspect('equal')
    ax.set_title(f'{kind} cell')
    ax.axis('off')


def draw_genotype(cells: Dict[str, Cell], path: str) -> bool:
    """Draw the cells as the DARTS paper does: inputs c_{k-2}, c_{k-1} on
    the left, the nodes, their concatenation c_{k} on the right; every kept
    edge labelled with its op. Returns False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed: no genotype plot')
        return False
    fig, axes = plt.subplots(1, len(cells), figsize=(6 * len(cells), 4.2),
                             dpi=130)
    for ax, (kind, cell) in zip(axes, cells.items()):
        _draw_cell(ax, kind, cell)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def size_of(model) -> Tuple[float, float]:
    """Parameters (K) and MFLOPs at 8x8 of a retrained model."""
    estimator = TASK_UTILS.build(dict(
        type='mmrazor.ResourceEstimator', input_shape=(1, 3, 8, 8),
        units=dict(flops='M', params='K')))
    res = estimator.estimate(unwrap_model(model))
    return res['params'], res['flops']


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/darts_digits_demo',
                        help='parent folder of the run (a new timestamped '
                        'folder is made inside)')
    parser.add_argument('--search-epochs', type=int, default=None,
                        help='default: the config\'s (20)')
    parser.add_argument('--warmup-epochs', type=int, default=None,
                        help='search epochs of weight steps only before the '
                        'architecture learns; default: the config\'s (10)')
    parser.add_argument('--retrain-epochs', type=int, default=None,
                        help='default: the config\'s (15)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--first-order', action='store_true',
                        help='first-order architecture step (unroll=False)')
    parser.add_argument('--quick', action='store_true',
                        help='1 epoch per stage on 64 training and 64 val '
                        'images, one seed: checks the pipeline in seconds')
    args = parser.parse_args(argv)
    if args.quick:
        args.search_epochs = args.search_epochs or 1
        args.retrain_epochs = args.retrain_epochs or 1
        args.warmup_epochs = args.warmup_epochs or 0
        args.seeds = args.seeds[:1]
    if args.warmup_epochs is not None and args.warmup_epochs < 0:
        parser.error(f'--warmup-epochs must be >= 0, got {args.warmup_epochs}')
    for name in ('search_epochs', 'retrain_epochs'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, '
                         f'got {value}')
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds must differ, got {args.seeds}')
    return args


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    register_all_modules(False)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    run_dir = osp.join(args.work_dir, time.strftime('%Y%m%d_%H%M%S'))
    if osp.exists(run_dir):
        sys.exit(f'{run_dir} already exists; wait a second and run again')
    start = time.perf_counter()

    cfg = Config.fromfile(osp.join(DEMO_DIR, 'darts_supernet_digits.py'))
    set_epochs(cfg, args.search_epochs or cfg.train_cfg.max_epochs)
    cfg.model.unroll = not args.first_order
    search_epochs = cfg.train_cfg.max_epochs
    warmup_epochs = (cfg.arch_warmup_epochs if args.warmup_epochs is None
                     else args.warmup_epochs)
    if warmup_epochs >= search_epochs:
        sys.exit(f'--warmup-epochs ({warmup_epochs}) must be below the '
                 f'search epochs ({search_epochs}): the architecture would '
                 'never learn')
    if args.quick:
        cfg.train_dataloader.dataset.indices = 32
        cfg.train_cfg.mutator_dataloader.dataset.indices = -32
        cfg.val_dataloader.dataset.indices = 64
    cfg.model.arch_warmup_epochs = warmup_epochs
    arch_lr = cfg.optim_wrapper.mutator.optimizer.lr
    cfg.work_dir = osp.join(run_dir, 'search')
    cfg.randomness = dict(seed=0)
    order = 'first' if args.first_order else 'second'
    print(f'[1/3] DARTS search ({order} order, {search_epochs} epochs, the '
          f'first {warmup_epochs} weights only; val top-1 of the supernet)',
          flush=True)
    runner = run(cfg, 'search')
    search_acc = final_accuracy(runner)
    algo = unwrap_model(runner.model)
    t_search = time.perf_counter() - start
    searched = algo.export_subnet()
    searched_yaml = save_subnet_file(
        searched, osp.join(run_dir, 'searched_subnet.yaml'))
    cells = genotype(searched)
    png = osp.join(run_dir, 'genotype.png')
    drawn = draw_genotype(cells, png)
    print('[2/3] Derived genotype (op, input; inputs 0/1 are the cell '
          'inputs, j >= 2 node j - 2):')
    for kind, cell in cells.items():
        print(f'  {kind}: [{format_cell(cell)}]')
    if drawn:
        print(f'  drawn in {png}')

    sub = Config.fromfile(osp.join(DEMO_DIR, 'darts_subnet_digits.py'))
    set_epochs(sub, args.retrain_epochs or sub.train_cfg.max_epochs)
    if args.quick:
        sub.train_dataloader.dataset.indices = 64
        sub.val_dataloader.dataset.indices = 64
    epochs = sub.train_cfg.max_epochs
    print(f'[3/3] Retraining the searched and a random genotype, {epochs} '
          f'epochs each, seeds {args.seeds}', flush=True)
    rows = []
    for seed in args.seeds:
        rand_yaml = save_subnet_file(
            random_subnet(algo, seed),
            osp.join(run_dir, f'random_subnet_seed{seed}.yaml'))
        row = dict(seed=seed, random_genotype={
            k: format_cell(c)
            for k, c in genotype(random_subnet(algo, seed)).items()
        })
        for name, path in (('searched', searched_yaml), ('random',
                                                        rand_yaml)):
            cfg = sub.copy()
            cfg.model.fix_subnet = path
            cfg.work_dir = osp.join(run_dir, f'{name}_seed{seed}')
            cfg.randomness = dict(seed=seed)
            runner = run(cfg, f'{name:8s} seed {seed}')
            row[name] = final_accuracy(runner)
            row[f'{name}_params_k'], row[f'{name}_mflops'] = size_of(
                runner.model)
        print(f'  seed {seed}: searched {row["searched"]:.2f}%, random '
              f'{row["random"]:.2f}% ({row["searched"] - row["random"]:+.2f})'
              f'; random genotype {row["random_genotype"]}', flush=True)
        rows.append(row)
    total = time.perf_counter() - start

    ours = [r['searched'] for r in rows]
    rand = [r['random'] for r in rows]
    report = dict(
        genotype={k: format_cell(c) for k, c in cells.items()},
        unroll=not args.first_order, search_epochs=search_epochs,
        warmup_epochs=warmup_epochs,
        arch_lr=arch_lr,
        search_val_accuracy=search_acc, retrain_epochs=epochs,
        quick=args.quick, seeds=args.seeds, rows=rows, searched=ours,
        random=rand, searched_mean=statistics.mean(ours),
        searched_std=_std(ours), random_mean=statistics.mean(rand),
        random_std=_std(rand),
        gain=statistics.mean(ours) - statistics.mean(rand),
        worst_gap=min(o - r for o, r in zip(ours, rand)),
        search_time_s=t_search, wall_time_s=total, run_dir=run_dir,
        genotype_png=png if drawn else None)
    atomic_dump_json(report, osp.join(run_dir, 'report.json'), indent=2)

    print('\n==== DARTS on digits: report ====')
    print(f'Genotype searched in {t_search:.0f} s ({order} order); '
          f'retrained {epochs} epochs per run, val top-1 (360 images):')
    print('  seed  searched   random    gain   params K (s / r)   '
          'MFLOPs (s / r)')
    for r in rows:
        print(f'  {r["seed"]:>4}  {r["searched"]:8.2f}  {r["random"]:7.2f}'
              f'  {r["searched"] - r["random"]:+6.2f}   '
              f'{r["searched_params_k"]:6.1f} / {r["random_params_k"]:6.1f}'
              f'   {r["searched_mflops"]:.3f} / {r["random_mflops"]:.3f}')
    print(f'  mean +- std over {len(rows)} seed(s): searched '
          f'{mean_std(ours)}, random {mean_std(rand)}')
    print(f'Gain of the search over random genotypes: {report["gain"]:+.2f}'
          f' points (worst seed {report["worst_gap"]:+.2f})')
    print(f'Report:    {osp.join(run_dir, "report.json")}')
    print(f'Wall time: search {t_search:.0f} s, total {total:.0f} s')
    return report


if __name__ == '__main__':
    main()
