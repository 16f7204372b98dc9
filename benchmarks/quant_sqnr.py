# Copyright (c) OpenMMLab. All rights reserved.
"""How close is int8 PTQ to fp32, and what moves it? An SQNR study.

Run from the repository root::

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/quant_sqnr.py \\
        --json work_dirs/quant_sqnr.json

On an mmcls ResNet-18 (``--model``) with random weights and realistic
batch-norm statistics (see ``_quant_models.py``), at 224x224, every row is
one PTQ run (export, prepare, calibration, observers off) and gives the
SQNR (dB) of its logits against fp32 and its top-1 agreement with fp32 on
``--held-out`` batches of 8 (the converted and lowered int8 models agree
with the fake-quantized graph to about 0.02 dB:
``quant_int8_vs_fp32.py``). Rows:

- each quantizer with its backend's scheme (``TorchNativeQuantizer``,
  ``OpenVINOQuantizer``, ``TensorRTQuantizer``, ``AcademicQuantizer`` at
  w8a8);
- x86 with other activation observers (``MinMaxObserver``,
  ``HistogramObserver``) and 4x the calibration data;
- the same float model built and measured on crops of photographs instead
  of noise, and with mmcls's own initialisation (``init_weights``: no
  bias in the head) instead of PyTorch's;
- the noise budget: only the weights quantized, only the activations;
- how much the float network amplifies input noise: SQNR of its logits
  when white noise at 40 dB is added to the images (noise and photos);
- mixed precision: the N layers the sensitivity table ranks first
  (``layer_sensitivity`` on one calibration batch) kept in float, with the
  batch-``--time-batch`` latency of the lowered int8 model
  (``lower_pt2e_quantized_to_x86``) against fp32 eager, interleaved.

It prints a Markdown table and which rows reach ``--target`` dB.
"""
import argparse
import functools
import time
from typing import Any, Dict, List

import torch  # noqa: E402  (after _common: OMP_WAIT_POLICY)
from _common import (
    add_output_args,
    add_run_args,
    machine_line,
    machine_meta,
    setup_torch,
    summarize,
    time_rounds,
    write_json,
)
from _quant_models import (
    MODELS,
    SIZE,
    batches,
    build_float,
    mmrazor_ptq,
    qconfig,
)

#: (quantizer, qconfig arguments) of each backend's scheme
BACKENDS = dict(
    TorchNativeQuantizer=dict(),
    OpenVINOQuantizer=dict(a_symmetric=True),
    TensorRTQuantizer=dict(a_qdtype='qint8', a_symmetric=True),
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', default='resnet18', choices=sorted(MODELS))
    parser.add_argument('--calib-batches', type=int, default=8)
    parser.add_argument('--held-out', type=int, default=4)
    parser.add_argument('--keep-float', type=int, nargs='+',
                        default=[1, 2, 4, 8],
                        help='mixed-precision rows: layers kept in float')
    parser.add_argument('--time-batch', type=int, default=1,
                        help='batch size of the mixed-precision timing')
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--target', type=float, default=35.0)
    add_run_args(parser, 'seed of weights and data', bootstrap=False)
    add_output_args(parser)
    return parser.parse_args(argv)


class Study:
    """Float models per (data, init), their data, and the measured rows."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: List[Dict[str, Any]] = []
        self._cache: Dict[tuple, tuple] = {}

    def setting(self, data: str = 'noise', init: str = 'default') -> tuple:
        """(float model, calibration batches, held-out batches, fp32
        logits) of one data/init setting, built once."""
        key = (data, init)
        if key not in self._cache:
            a = self.args
            arch = build_float(a.model, data, init, seed=a.seed)
            calib = batches(data, 4 * a.calib_batches, 8, a.seed + 1)
            held = batches(data, a.held_out, 8, a.seed + 2)
            with torch.no_grad():
                ref = torch.cat([arch(x, mode='tensor') for x in held])
            self._cache[key] = (arch, calib, held, ref)
        return self._cache[key]

    def run(self, name: str, data: str = 'noise', init: str = 'default',
            calib_factor: int = 1, only: str = 'all', **ptq: Any) -> Any:
        """One PTQ row; returns the calibrated model."""
        from mmrazor.models.algorithms.quantization.sensitivity import sqnr
        start = time.perf_counter()
        arch, calib, held, ref = self.setting(data, init)
        model = mmrazor_ptq(arch, calib[:calib_factor *
                                        self.args.calib_batches], **ptq)
        _only(model, only)
        with torch.no_grad():
            out = torch.cat([model(x) for x in held])
        _only(model, 'all')
        row = dict(
            row=name, sqnr=sqnr(ref, out),
            top1_agreement=float((out.argmax(1) == ref.argmax(1)).float()
                                 .mean()),
            seconds=time.perf_counter() - start)
        self.rows.append(row)
        print(f'{name}: SQNR {row["sqnr"]:.2f} dB, top-1 agreement '
              f'{row["top1_agreement"]:.2f} ({row["seconds"]:.0f} s)',
              flush=True)
        return model


def _only(model: torch.nn.Module, which: str) -> None:
    """Fake quantizers on: 'all', only 'weights' (per-channel ones, the
    x86 weight scheme) or only 'activations'."""
    for m in model.quant_modules():
        weight = m.qscheme in (torch.per_channel_symmetric,
                               torch.per_channel_affine)
        on = which == 'all' or (which == 'weights') == weight
        m.fake_quant_enabled.fill_(int(on))


def mixed_precision(study: Study, base: torch.nn.Module) -> Dict:
    """keep_float rows, and the latency of their lowered int8 models."""
    from mmrazor.models.algorithms.quantization import deploy
    from mmrazor.models.algorithms.quantization.sensitivity import (
        layer_sensitivity,
        most_sensitive,
    )
    args = study.args
    arch, calib, _, _ = study.setting()
    rows = layer_sensitivity(base, calib[:1])
    x = torch.randn(args.time_batch, 3, SIZE, SIZE)
    models = dict(fp32=functools.partial(arch, x, mode='tensor'))
    lowered = deploy.lower_to_x86(base.get_deploy_model(), (x, ))
    models['int8 keep_float 0'] = functools.partial(lowered, x)
    for n in args.keep_float:
        names = most_sensitive(rows, n)
        model = study.run(f'x86, keep_float {n} ({", ".join(names)})',
                          keep_float=names)
        lowered = deploy.lower_to_x86(model.get_deploy_model(), (x, ))
        models[f'int8 keep_float {n}'] = functools.partial(lowered, x)
    with torch.no_grad():
        times = time_rounds(models, args.repeats, 3)
    stats = {k: summarize(v['wall'], v['cpu']) for k, v in times.items()}
    fp32 = stats['fp32']['median_ms']
    print(f'batch {args.time_batch} latency (median ms; fp32 eager / X):')
    for k, s in stats.items():
        print(f'  {k:>20}: {s["median_ms"]:.2f} ms, '
              f'{fp32 / s["median_ms"]:.2f}x', flush=True)
    return dict(sensitivity=rows, latency=stats)


def amplification(study: Study, db: float = 40.0) -> Dict[str, float]:
    """SQNR of the fp32 logits when white noise at ``db`` dB SNR is added
    to the held-out images, per data kind."""
    from mmrazor.models.algorithms.quantization.sensitivity import sqnr
    out = {}
    gen = torch.Generator().manual_seed(study.args.seed + 3)
    for data in ('noise', 'photos'):
        arch, _, held, ref = study.setting(data)
        with torch.no_grad():
            noisy = torch.cat([
                arch(x + x.std() * 10**(-db / 20) *
                     torch.randn(x.shape, generator=gen), mode='tensor')
                for x in held
            ])
        out[data] = sqnr(ref, noisy)
        print(f'fp32, {data}: input noise at {db:.0f} dB -> logits '
              f'{out[data]:.1f} dB', flush=True)
    return out


def table(rows: List[Dict[str, Any]], target: float) -> str:
    lines = ['| PTQ run | SQNR vs fp32 (dB) | top-1 agreement |',
             '|---|---:|---:|']
    lines += [f'| {r["row"]} | {r["sqnr"]:.1f}'
              f'{" (>= target)" if r["sqnr"] >= target else ""} | '
              f'{r["top1_agreement"]:.2f} |' for r in rows]
    return '\n'.join(lines)


def main(argv=None) -> Dict[str, Any]:
    args = parse_args(argv)
    setup_torch(args.threads, args.seed)
    import mmrazor.models  # noqa: F401
    meta = machine_meta(load_avg=True)
    print(machine_line(meta), f'load {meta["load_avg"]}', flush=True)
    study = Study(args)
    base = None
    for quantizer, kwargs in BACKENDS.items():
        model = study.run(f'{quantizer} (its scheme), noise',
                          quantizer=quantizer,
                          global_qconfig=qconfig(**kwargs))
        base = base or model
    study.run('AcademicQuantizer w8a8 (uint8 affine activations)',
              quantizer='AcademicQuantizer')
    for observer in ('MinMaxObserver', 'HistogramObserver'):
        study.run(f'x86, activations: {observer}',
                  global_qconfig=qconfig(a_observer=observer))
    study.run(f'x86, {4 * args.calib_batches} calibration batches',
              calib_factor=4)
    study.run('x86, photos (BN statistics, calibration, held out)',
              data='photos')
    study.run('x86, mmcls init_weights (head without bias)', init='mmcls')
    study.run('x86, weights only quantized', only='weights')
    study.run('x86, activations only quantized', only='activations')
    amplified = amplification(study)
    mixed = mixed_precision(study, base)
    print(table(study.rows, args.target))
    met = [r['row'] for r in study.rows if r['sqnr'] >= args.target]
    print(f'target {args.target} dB: ' + (f'reached by {met}' if met else
                                          'reached by no row'))
    report = dict(meta=meta, args=vars(args), rows=study.rows,
                  input_noise_40db=amplified, **mixed)
    if args.json:
        write_json(args.json, report, announce=True)
    return report


if __name__ == '__main__':
    main()
