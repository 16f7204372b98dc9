# Copyright (c) OpenMMLab. All rights reserved.
"""DARTS step cost: second order vs first order vs a plain training step.

Run from the repository root::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/darts_step.py \
        --base-channels 8 --layers 5 --batch-size 16 --repeats 8 \
        --warmup 1 --threads 2 --json work_dirs/darts_step.json

What it does:

1. Builds the DARTS CIFAR search space (the 8 ops of
   ``configs/_base_/nas_backbones/darts_supernet.py``, routes with their own
   parameters, 4 nodes) at ``--base-channels`` and ``--layers`` in an mmcls
   ``ImageClassifier``, inside three :class:`~mmrazor.models.Darts` copies
   with identical weights: ``unroll=True`` (second order), ``unroll=False``
   (first order), and the first-order one again for the plain step.
2. Optimizers as the search config: SGD (lr 0.025, momentum 0.9, weight
   decay 3e-4) for the weights, Adam (3e-4) for the architecture.
3. Times, interleaved in one process, one step of each variant on the same
   two batches (``--batch-size`` random 32x32 images, 10 classes):

   - ``plain``: ``Darts.weight_step``: one forward and backward of the
     training loss and one SGD step (what training any supernet costs);
   - ``first``: ``Darts.train_step`` with ``unroll=False``: the validation
     forward/backward for the architecture gradient, then the weight step
     (2 forward-backward passes);
   - ``second``: ``Darts.train_step`` with ``unroll=True``: virtual step,
     validation pass, two finite-difference passes, weight step (5
     forward-backward passes, plus copies of the weights).

   It reports the medians and the ratios second/first, first/plain and
   second/plain. By the pass counts, second/first should be near 5/2 =
   2.5 (the 3 extra passes of the unrolled step), first/plain near 2 and
   second/plain near 5; the target is second/first <= 3.
"""
import argparse
import copy

from _common import (
    STATS_HEADER,
    add_output_args,
    add_run_args,
    check_new_path,
    compare,
    machine_line,
    machine_meta,
    ratio_lines,
    setup_torch,
    stats_cells,
    summarize,
    time_rounds,
    write_json,
)


def _build(args):
    import torch
    from mmcls.structures import ClsDataSample
    from mmengine.optim import OptimWrapper, OptimWrapperDict

    import mmrazor.models  # noqa: F401
    from mmrazor.registry import MODELS
    from mmrazor.testing.darts import tiny_darts_classifier

    arch = tiny_darts_classifier(
        base_channels=args.base_channels, num_layers=args.layers,
        num_nodes=4, num_classes=10)
    second = MODELS.build(dict(type='mmrazor.Darts', architecture=arch,
                               unroll=True))
    first = copy.deepcopy(second)
    first.unroll = False
    plain = copy.deepcopy(first)

    def optim(algo):
        return OptimWrapperDict(
            architecture=OptimWrapper(torch.optim.SGD(
                algo.architecture.parameters(), lr=0.025, momentum=0.9,
                weight_decay=3e-4)),
            mutator=OptimWrapper(torch.optim.Adam(
                algo.mutator.parameters(), lr=3e-4)))

    def batch(seed):
        g = torch.Generator().manual_seed(seed)
        n = args.batch_size
        return dict(
            inputs=torch.randint(0, 256, (n, 3, 32, 32), generator=g,
                                 dtype=torch.uint8),
            data_samples=[ClsDataSample().set_gt_label(int(t)) for t in
                          torch.randint(0, 10, (n, ), generator=g)])

    data = (batch(1), batch(2))
    optims = {name: optim(a) for name, a in
              (('plain', plain), ('first', first), ('second', second))}
    prepared = plain.data_preprocessor(data[0], True)
    return {
        'plain': lambda: plain.weight_step(prepared,
                                           optims['plain']['architecture']),
        'first': lambda: first.train_step(data, optims['first']),
        'second': lambda: second.train_step(data, optims['second']),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--base-channels', type=int, default=8)
    parser.add_argument('--layers', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--repeats', type=int, default=8)
    parser.add_argument('--warmup', type=int, default=1)
    add_run_args(parser, 'seed of the weights and the bootstrap', True)
    add_output_args(parser)
    args = parser.parse_args()
    check_new_path(args.json)
    setup_torch(args.threads, args.seed)
    calls = _build(args)
    times = time_rounds(calls, args.repeats, args.warmup)
    stats = {k: summarize(v['wall'], v['cpu']) for k, v in times.items()}
    meta = machine_meta(load_avg=True)
    print(machine_line(meta))
    print(f'DARTS supernet C={args.base_channels}, {args.layers} cells, '
          f'batch {args.batch_size} at 32x32, {args.threads} threads')
    print(f'{"step":<8} {STATS_HEADER}')
    for name, s in stats.items():
        print(f'{name:<8} {stats_cells(s)}')
    report = dict(args=vars(args), machine=meta, stats=stats, ratios={})
    for num, den, target in (('second', 'first', 3.0),
                             ('first', 'plain', None),
                             ('second', 'plain', None)):
        ratios = compare(times[num], times[den], args.bootstrap, args.seed,
                         target or float('inf'))
        report['ratios'][f'{num}/{den}'] = ratios
        for line in ratio_lines(f'{num}/{den}', ratios, target or 99.):
            print(line)
    if args.json:
        write_json(args.json, report, announce=True)


if __name__ == '__main__':
    main()
