# Copyright (c) OpenMMLab. All rights reserved.
"""PT2E int8 vs fp32 on this CPU, agreement of the exports, PTQ overhead.

Run from the repository root::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. \\
        python benchmarks/quant_int8_vs_fp32.py \\
        --json work_dirs/quant_int8_vs_fp32.json \\
        --plot docs/en/_static/quant_int8_vs_fp32.png

What it does, per model (``--models``: ResNet-18 and MobileNetV2, mmcls
ImageNet classifiers, random weights, 224x224; see ``_quant_models.py``):

1. Gives the batch norms realistic statistics: 8 batches of the data
   (``--data``: standard normal pixels or crops of two photographs) in
   train mode (cumulative averages), then eval mode.
2. PTQ with ``TorchNativeQuantizer`` (x86: symmetric int8 weights per
   channel, uint8 activations) through ``MMArchitectureQuant`` (export,
   prepare, ``--calib-batches`` calibration batches, convert), and the same
   steps written directly against torchao (``torch.export`` +
   ``prepare_qat_pt2e`` with ``X86InductorQuantizer`` and the same specs);
   the two run alternately (AB, BA, ...) and the ratio of the medians of
   their wall times is the overhead of the mmrazor pipeline (target <=
   1.05).
3. Latency per batch size (``--batch-sizes``), in one process, interleaved
   with the rotation of :func:`benchmarks._common.time_rounds`: fp32 eager,
   an A/A control (a deep copy of fp32 eager), int8 lowered
   (``lower_pt2e_quantized_to_x86``), int8 compiled and fp32 compiled
   (``torch.compile``, Inductor freezing; ``--no-compile`` skips both)
   and, with ``--openvino``, the QDQ ONNX run by OpenVINO's CPU plugin.
   Ratios are fp32 eager / X of the medians (a speed-up when > 1) with
   bootstrap intervals; the A/A ratio shows the noise floor of the run.
4. SQNR (dB) of the logits against fp32 on 4 held-out batches of 8: the
   fake-quantized graph, the converted one, the lowered and the compiled
   ones; and the agreement (SQNR, top-1) of each export with the
   fake-quantized graph it comes from.

The SQNR study (observers, calibration size, data, mixed precision) is
``quant_sqnr.py``.
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
from _quant_models import (
    DATA,
    MODELS,
    SIZE,
    batches,
    build_float,
    mmrazor_ptq,
    qconfig,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=['resnet18', 'mbv2'],
                        choices=sorted(MODELS))
    parser.add_argument('--batch-sizes', nargs='+', type=int,
                        default=[1, 8])
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--calib-batches', type=int, default=8)
    parser.add_argument('--data', choices=sorted(DATA), default='noise',
                        help='images of the BN statistics, calibration '
                        'and SQNR')
    parser.add_argument('--pipeline-rounds', type=int, default=4,
                        help='alternating runs of each PTQ pipeline')
    parser.add_argument('--openvino', action='store_true',
                        help='also the QDQ ONNX in OpenVINO (the openvino '
                        'extra): latency (one compiled model, any batch) '
                        'and SQNR')
    parser.add_argument('--no-compile', dest='compile',
                        action='store_false',
                        help='skip torch.compile (int8 and fp32)')
    parser.add_argument('--plot', help='bar chart of the speed-ups (png)')
    add_run_args(parser, 'seed of weights and data', bootstrap=True)
    add_output_args(parser)
    return parser.parse_args(argv)


def mmrazor_pipeline(arch, calib) -> Any:
    """Export, prepare, calibrate, convert through MMArchitectureQuant."""
    model = mmrazor_ptq(arch, calib)
    return model, model.get_deploy_model()


def direct_ptq(arch, calib) -> Any:
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
        path, (calib[0], ), dynamic_shapes=({0: batch}, ),
        strict=True).module()
    quantizer = x86_inductor_quantizer.X86InductorQuantizer().set_global(
        QConfigHandler(qconfig()).quantization_config())
    prepared = move_exported_model_to_eval(prepare_qat_pt2e(graph,
                                                            quantizer))
    with torch.no_grad():
        for x in calib:
            prepared(x)
    for m in prepared.modules():
        if hasattr(m, 'disable_observer'):
            m.disable_observer()
    return prepared, convert_pt2e(copy.deepcopy(prepared))


def pipeline_overhead(arch, calib, rounds) -> Dict[str, Any]:
    times = dict(mmrazor=[], torchao=[])
    result = None
    for i in range(rounds):
        order = ['mmrazor', 'torchao'] if i % 2 == 0 else ['torchao',
                                                             'mmrazor']
        for name in order:
            start = time.perf_counter()
            run = mmrazor_pipeline if name == 'mmrazor' else direct_ptq
            out = run(arch, calib)
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


def sqnr_row(arch, quant, exports: Dict[str, Any],
             held_out) -> Dict[str, Any]:
    """SQNR of every model's logits against fp32, and of every export
    against the fake-quantized graph (with top-1 agreement)."""
    from mmrazor.models.algorithms.quantization.deploy import compare_outputs
    from mmrazor.models.algorithms.quantization.sensitivity import sqnr
    with torch.no_grad():
        ref = torch.cat([arch(x, mode='tensor') for x in held_out])
        fake = torch.cat([quant(x) for x in held_out])
        outs = {k: torch.cat([m(x) for x in held_out])
                for k, m in exports.items()}
    row: Dict[str, Any] = dict(vs_fp32=dict(fake_quant=sqnr(ref, fake)))
    row['vs_fp32'].update({k: sqnr(ref, v) for k, v in outs.items()})
    row['top1_agreement_fp32'] = float(
        (ref.argmax(1) == fake.argmax(1)).float().mean())
    row['vs_fake_quant'] = {
        k: {n: round(x, 4) for n, x in compare_outputs(fake, v).items()
            if n != 'max_abs_diff'}
        for k, v in outs.items()
    }
    return row


class Logits(torch.nn.Module):
    """An mmcls classifier's tensor mode as a plain module."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, mode='tensor')


def openvino_runner(converted, x: torch.Tensor, threads: int) -> Any:
    """The converted graph as QDQ ONNX, compiled by OpenVINO for the CPU
    (``threads`` inference threads); a callable on tensors."""
    import tempfile

    import openvino as ov

    from mmrazor.models.algorithms.quantization import deploy
    with tempfile.TemporaryDirectory() as tmp:
        path = deploy.export_qdq_onnx(converted, (x, ), f'{tmp}/m.onnx')
        compiled = ov.Core().compile_model(
            path, 'CPU', {'INFERENCE_NUM_THREADS': threads})
    output = compiled.output(0)

    def run(inputs: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(compiled([inputs.numpy()])[output].copy())

    return run


def time_batch(arch, converted, bs: int, args,
               openvino: Any = None) -> Dict[str, Any]:
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
    if openvino is not None:
        models['int8_openvino'] = openvino
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
        arch = build_float(name, args.data, seed=args.seed)
        calib = batches(args.data, args.calib_batches, 8, args.seed + 1)
        held_out = batches(args.data, 4, 8, args.seed + 2)
        overhead, (quant, converted) = pipeline_overhead(
            arch, calib, args.pipeline_rounds)
        print(f'{name}: PTQ pipeline mmrazor/torchao wall time '
              f'{overhead["ratio_median"]:.3f} '
              f'(min {overhead["ratio_min"]:.3f}; target <= 1.05); '
              f'seconds {overhead["seconds"]}', flush=True)
        entry: Dict[str, Any] = dict(pipeline=overhead, batch={})
        at8: Dict[str, Any] = {}
        openvino = None
        if args.openvino:
            start = time.perf_counter()
            openvino = openvino_runner(converted, calib[0], args.threads)
            print(f'{name}: QDQ ONNX export and OpenVINO compilation '
                  f'{time.perf_counter() - start:.1f} s', flush=True)
        for bs in args.batch_sizes:
            row, models = time_batch(arch, converted, bs, args, openvino)
            entry['batch'][bs] = row
            print_batch(name, bs, row)
            if bs == 8:
                at8 = models
        exports = dict(converted=converted)
        exports.update({k: at8[k] for k in ('int8_lowered', 'int8_compiled',
                                            'int8_openvino') if k in at8})
        entry['sqnr'] = sqnr_row(arch, quant.qmodel, exports, held_out)
        print(f'{name}: SQNR vs fp32 (dB) {entry["sqnr"]["vs_fp32"]}; '
              f'top-1 agreement with fp32 '
              f'{entry["sqnr"]["top1_agreement_fp32"]:.2f}; exports vs '
              f'fake-quant {entry["sqnr"]["vs_fake_quant"]}', flush=True)
        report['models'][name] = entry
    print(summary_table(report))
    if args.json:
        write_json(args.json, report, announce=True)
    if args.plot:
        plot(report, args.plot)
    return report


def summary_table(report: Dict[str, Any]) -> str:
    """Markdown table: fp32 eager median and fp32 eager / X ratios."""
    cols = ['fp32_copy', 'int8_lowered', 'int8_compiled', 'fp32_compiled',
            'int8_openvino']
    lines = ['| model | batch | fp32 eager | ' + ' | '.join(
        'A/A (fp32 copy)' if c == 'fp32_copy' else c.replace('_', ' ')
        for c in cols) + ' |', '|---|---:|---:|' + '---:|' * len(cols)]
    for name, entry in report['models'].items():
        for bs, row in entry['batch'].items():
            cells = [f'{row["speedup"][c]["ratio_median"]:.2f}x'
                     if c in row['speedup'] else '-' for c in cols]
            lines.append(f'| {name} | {bs} | '
                         f'{row["stats"]["fp32"]["median_ms"]:.1f} ms | ' +
                         ' | '.join(cells) + ' |')
    return '\n'.join(lines)


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
