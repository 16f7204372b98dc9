# Copyright (c) OpenMMLab. All rights reserved.
"""PT2E int8 vs fp32 on this CPU, SQNR, and the PTQ pipeline's overhead.

Run from the repository root::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/quant_speed.py \\
        --models resnet18 mbv2 --batch-sizes 1 8 --threads 2 \\
        --json work_dirs/quant_speed.json --plot docs/en/_static/quant.png

What it does, per model (an mmcls ImageClassifier of the ImageNet configs,
random weights, 224x224):

1. Gives the batch norms realistic statistics: 8 batches of random images
   in train mode (cumulative averages), then eval mode.
2. PTQ with ``TorchNativeQuantizer`` (x86: symmetric int8 weights per
   channel, uint8 activations) through ``MMArchitectureQuant`` (export,
   prepare, ``--calib-batches`` calibration batches, convert), and the same
   steps written directly against torchao (``torch.export`` +
   ``prepare_qat_pt2e`` with ``X86InductorQuantizer`` and the same specs);
   the two run alternately (AB, BA) and the ratio of the medians of their
   wall times is the overhead of the mmrazor pipeline (target <= 1.05).
3. SQNR (dB) of the logits against fp32 on 4 held-out batches: the
   fake-quantized graph, the converted one, the lowered one
   (``lower_pt2e_quantized_to_x86``) and, with ``--compile``, the compiled
   one (``torch.compile``, Inductor freezing).
4. Latency per batch size, all models interleaved in one process with the
   rotation of :func:`benchmarks._common.time_rounds`: fp32 eager, an A/A
   control (a deep copy of fp32 eager), int8 lowered and, with
   ``--compile``, int8 compiled and fp32 compiled. Ratios are
   fp32 eager / X of the medians (a speed-up when > 1) with bootstrap
   intervals; the A/A ratio shows the noise floor of the run.

The full command above took about 12 minutes on 2 cores (with a warm
Inductor cache); without ``--compile`` it is shorter.
"""
import argparse
import copy
import functools
import statistics
import sys
import time
from typing import Any, Dict, List

import torch  # noqa: E402  (after _common: OMP_WAIT_POLICY)
from _common import (
    add_output_args,
    add_run_args,
    compare,
    machine_line,
    machine_meta,
    ratio_lines,
    setup_torch,
    summarize,
    time_rounds,
    write_json,
)

MODELS = {
    'resnet18': 'mmcls::resnet/resnet18_8xb32_in1k.py',
    'resnet50': 'mmcls::resnet/resnet50_8xb32_in1k.py',
    'mbv2': 'mmcls::mobilenet_v2/mobilenet-v2_8xb32_in1k.py',
}
SIZE = 224


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=['resnet18', 'mbv2'],
                        choices=sorted(MODELS))
    parser.add_argument('--batch-sizes', nargs='+', type=int,
                        default=[1, 8])
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--calib-batches', type=int, default=8)
    parser.add_argument('--pipeline-rounds', type=int, default=2,
                        help='alternating runs of each PTQ pipeline')
    parser.add_argument('--compile', action='store_true',
                        help='also time torch.compile int8 and fp32')
    parser.add_argument('--plot', help='bar chart of the speed-ups (png)')
    add_run_args(parser, 'seed of weights and data', bootstrap=True)
    add_output_args(parser)
    return parser.parse_args(argv)


def qconfig() -> Dict:
    """x86's scheme in the config language (uint8 affine activations)."""
    from mmrazor.testing.quantization import qconfig as make
    return make(a_symmetric=False)


def build_float(name: str) -> torch.nn.Module:
    """The classifier with realistic BN statistics, eval mode."""
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope

    from mmrazor.registry import MODELS as REGISTRY
    cfg = get_config(MODELS[name]).model
    if cfg.backbone.type == 'ResNet':
        cfg.backbone.zero_init_residual = False
    with DefaultScope.overwrite_default_scope('mmcls'):
        model = REGISTRY.build(cfg)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for _ in range(8):
            model(torch.randn(8, 3, SIZE, SIZE), mode='tensor')
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            # back to a constant (a cumulative average divides by the
            # batch count, which torch.export cannot trace)
            m.momentum = 0.1
    return model.eval()


def mmrazor_ptq(arch, batches) -> Any:
    """Export, prepare, calibrate, convert through MMArchitectureQuant."""
    from mmrazor.registry import MODELS as REGISTRY
    model = REGISTRY.build(
        dict(
            type='mmrazor.MMArchitectureQuant',
            architecture=copy.deepcopy(arch),
            quantizer=dict(
                type='mmrazor.TorchNativeQuantizer',
                global_qconfig=qconfig()),
            input_shapes=(1, 3, SIZE, SIZE)))
    model.eval()
    with torch.no_grad():
        for x in batches:
            model(x)
    for m in model.quant_modules():
        m.disable_observer()
    return model, model.get_deploy_model()


def direct_ptq(arch, batches) -> Any:
    """The same steps written against torch.export and torchao."""
    from torchao.quantization.pt2e import move_exported_model_to_eval
    from torchao.quantization.pt2e.quantize_pt2e import (
        convert_pt2e,
        prepare_qat_pt2e,
    )
    from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer

    from mmrazor.models.quantizers import QConfigHandler

    class Logits(torch.nn.Module):

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(x, mode='tensor')

    path = Logits(copy.deepcopy(arch)).train()
    batch = torch.export.Dim('batch', min=1, max=1 << 16)
    graph = torch.export.export(
        path, (batches[0], ), dynamic_shapes=({0: batch}, ),
        strict=True).module()
    quantizer = x86_inductor_quantizer.X86InductorQuantizer().set_global(
        QConfigHandler(qconfig()).quantization_config())
    prepared = move_exported_model_to_eval(prepare_qat_pt2e(graph,
                                                            quantizer))
    with torch.no_grad():
        for x in batches:
            prepared(x)
    for m in prepared.modules():
        if hasattr(m, 'disable_observer'):
            m.disable_observer()
    return prepared, convert_pt2e(copy.deepcopy(prepared))


def pipeline_overhead(arch, batches, rounds) -> Dict[str, Any]:
    times = dict(mmrazor=[], torchao=[])
    result = None
    for i in range(rounds):
        order = ['mmrazor', 'torchao'] if i % 2 == 0 else ['torchao',
                                                             'mmrazor']
        for name in order:
            start = time.perf_counter()
            out = (mmrazor_ptq if name == 'mmrazor' else direct_ptq)(arch,
                                                                     batches)
            times[name].append(time.perf_counter() - start)
            if name == 'mmrazor':
                result = out
    ratio = statistics.median(times['mmrazor']) / statistics.median(
        times['torchao'])
    return dict(
        seconds=times,
        ratio_median=ratio,
        ratio_min=min(times['mmrazor']) / min(times['torchao']),
        within_target=ratio <= 1.05), result


def sqnr_row(arch, quant, converted, lowered, compiled,
             held_out) -> Dict[str, float]:
    from mmrazor.models.algorithms.quantization.sensitivity import sqnr
    with torch.no_grad():
        ref = torch.cat([arch(x, mode='tensor') for x in held_out])
        row = dict(
            fake_quant=sqnr(ref, torch.cat([quant(x) for x in held_out])),
            converted=sqnr(ref, torch.cat([converted(x)
                                           for x in held_out])))
        if lowered is not None:
            row['lowered'] = sqnr(ref, torch.cat([lowered(x)
                                                  for x in held_out]))
        if compiled is not None:
            row['compiled'] = sqnr(ref, torch.cat([compiled(x)
                                                   for x in held_out]))
        top1 = (ref.argmax(1) == torch.cat([converted(x) for x in held_out
                                            ]).argmax(1)).float().mean()
        row['top1_agreement_converted'] = float(top1)
    return row


class Logits(torch.nn.Module):
    """An mmcls classifier's tensor mode as a plain module."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, mode='tensor')


def time_batch(arch, converted, bs: int, args) -> Dict[str, Any]:
    """Latency of fp32 and int8 at one batch size; the built int8 models."""
    from mmrazor.models.algorithms.quantization import deploy
    x = torch.randn(bs, 3, SIZE, SIZE)
    fp32, fp32_copy = Logits(arch), Logits(copy.deepcopy(arch))
    start = time.perf_counter()
    lowered = deploy.lower_to_x86(converted, (x, ))
    seconds = dict(lowering=time.perf_counter() - start)
    models = dict(fp32=fp32, fp32_copy=fp32_copy, int8_lowered=lowered)
    if args.compile:
        start = time.perf_counter()
        models['int8_compiled'] = deploy.compile_int8(converted, (x, ))
        seconds['compile_int8'] = time.perf_counter() - start
        start = time.perf_counter()
        models['fp32_compiled'] = deploy.compile_int8(
            Logits(arch).eval(), (x, ))
        seconds['compile_fp32'] = time.perf_counter() - start
    calls = {k: functools.partial(m, x) for k, m in models.items()}
    with torch.no_grad():
        times = time_rounds(calls, args.repeats, args.warmup)
    return dict(
        stats={k: summarize(v['wall'], v['cpu']) for k, v in times.items()},
        speedup={
            k: compare(times['fp32'], times[k], args.bootstrap, args.seed,
                       target=1.0)
            for k in times if k != 'fp32'
        },
        seconds=seconds), models


def print_batch(name: str, bs: int, row: Dict[str, Any]) -> None:
    print(f'{name} batch {bs}: ' + ', '.join(
        f'{k} {v:.1f} s' for k, v in row['seconds'].items()))
    for k, s in row['stats'].items():
        print(f'  {k:>14}: median {s["median_ms"]:.2f} ms, '
              f'cpu {s["cpu_median_ms"]:.2f} ms')
    for k, r in row['speedup'].items():
        if k == 'fp32_copy':
            lines = ratio_lines('A/A fp32/fp32_copy', r, None)
        else:
            ci = r['ratio_bootstrap95']
            ci_text = f' [bootstrap 95% {ci[0]:.2f}-{ci[1]:.2f}]' if ci \
                else ''
            lines = [f'  speed-up fp32 eager/{k}: {r["ratio_median"]:.2f}x'
                     f'{ci_text}; cpu time {r["ratio_cpu_median"]:.2f}x']
        for line in lines:
            print(line)
    sys.stdout.flush()


def main(argv=None) -> Dict[str, Any]:
    args = parse_args(argv)
    setup_torch(args.threads, args.seed)
    import mmrazor.models  # noqa: F401
    meta = machine_meta(load_avg=True)
    print(machine_line(meta), f'load {meta["load_avg"]}', flush=True)
    report: Dict[str, Any] = dict(meta=meta, args=vars(args), models={})
    for name in args.models:
        arch = build_float(name)
        batches = [torch.randn(8, 3, SIZE, SIZE)
                   for _ in range(args.calib_batches)]
        held_out = [torch.randn(8, 3, SIZE, SIZE) for _ in range(4)]
        overhead, (quant, converted) = pipeline_overhead(
            arch, batches, args.pipeline_rounds)
        print(f'{name}: PTQ pipeline mmrazor/torchao wall time '
              f'{overhead["ratio_median"]:.3f} '
              f'(min {overhead["ratio_min"]:.3f}; target <= 1.05); '
              f'seconds {overhead["seconds"]}', flush=True)
        entry: Dict[str, Any] = dict(pipeline=overhead, batch={})
        at8: Dict[str, Any] = {}
        for bs in args.batch_sizes:
            row, models = time_batch(arch, converted, bs, args)
            entry['batch'][bs] = row
            print_batch(name, bs, row)
            if bs == 8:
                at8 = models
        entry['sqnr'] = sqnr_row(arch, quant.qmodel, converted,
                                 at8.get('int8_lowered'),
                                 at8.get('int8_compiled'), held_out)
        print(f'{name}: SQNR vs fp32 (dB) {entry["sqnr"]}', flush=True)
        report['models'][name] = entry
    if args.json:
        write_json(args.json, report, announce=True)
    if args.plot:
        plot(report, args.plot)
    return report


def plot(report: Dict[str, Any], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    labels: List[str] = []
    series: Dict[str, List[float]] = {}
    for name, entry in report['models'].items():
        for bs, row in entry['batch'].items():
            labels.append(f'{name}\nbatch {bs}')
            for k, r in row['speedup'].items():
                series.setdefault(k, []).append(r['ratio_cpu_median'])
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / max(len(series), 1)
    for i, (k, values) in enumerate(series.items()):
        pos = [j + i * width for j in range(len(values))]
        ax.bar(pos, values, width, label=k.replace('_', ' '))
    ax.axhline(1.0, color='black', lw=0.8)
    ax.set_xticks([j + width * (len(series) - 1) / 2
                   for j in range(len(labels))])
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel('fp32 eager / X (CPU time)')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f'plot written to {path}')


if __name__ == '__main__':
    main()
