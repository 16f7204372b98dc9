# Copyright (c) OpenMMLab. All rights reserved.
"""Post-training quantization of an mmrazor quantization config.

Examples::

    python tools/ptq.py configs/quantization/ptq/base/\
ptq_openvino_resnet18_8xb32_in1k_calib32xb32.py
    python tools/ptq.py CONFIG --work-dir work_dirs/ptq \\
        --cfg-options model.float_checkpoint=resnet18.pth

The config's ``test_cfg`` is a ``PTQLoop``: it calibrates the model on
``calibrate_steps`` batches, saves ``model_ptq.pth`` (the calibrated model:
``python tools/test.py CONFIG work_dir/model_ptq.pth`` evaluates it again
without calibrating) and evaluates the fake-quantized model on the test
set. ``--sensitivity N`` then writes the per-layer sensitivity table and
plot (``sensitivity.md``/``.png``) from the calibration data, and with
``--keep-float N`` quantizes again keeping the N most sensitive layers in
float and reports the change.
"""
# isort: off
import mmrazor  # noqa: F401  (first: dependency check, checkpoint loader)
# isort: on
import argparse
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner
from runner_utils import (
    LAUNCHERS,
    set_local_rank_env,
    set_work_dir,
    setup_distributed,
)

from mmrazor.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line of ``tools/ptq.py``."""
    parser = argparse.ArgumentParser(
        description='Calibrate, save and evaluate a quantized model (PTQ).')
    parser.add_argument('config', help='quantization config (PTQLoop)')
    parser.add_argument(
        '--work-dir',
        help='where model_ptq.pth and the logs go; defaults to the '
        "config's work_dir or ./work_dirs/<config name>")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs')
    parser.add_argument(
        '--sensitivity',
        type=int,
        default=0,
        metavar='BATCHES',
        help='after PTQ, write the per-layer sensitivity table and plot '
        'from this many calibration batches')
    parser.add_argument(
        '--keep-float',
        type=int,
        default=0,
        metavar='N',
        help='with --sensitivity: quantize again with the N most '
        'sensitive layers in float and evaluate')
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    parser.add_argument(
        '--local_rank', '--local-rank', type=int, default=0,
        dest='local_rank')
    args = parser.parse_args(argv)
    set_local_rank_env(args.local_rank)
    if args.keep_float and not args.sensitivity:
        parser.error('--keep-float needs --sensitivity BATCHES (the ranking '
                     'comes from it)')
    return args


def check_config(cfg: Config, path: str) -> None:
    """Refuse a config that does not quantize with a PTQLoop."""
    loop = (cfg.get('test_cfg') or {}).get('type', '')
    model = (cfg.get('model') or {}).get('type', '')
    if loop.split('.')[-1] != 'PTQLoop' or \
            model.split('.')[-1] != 'MMArchitectureQuant':
        raise ValueError(
            f'{path}: tools/ptq.py needs model.type=MMArchitectureQuant and '
            f"test_cfg.type='mmrazor.PTQLoop', got {model!r} and {loop!r}; "
            'see configs/quantization/ptq/')


def sensitivity(runner: Runner, batches: int, work_dir: str) -> list:
    """Write ``sensitivity.md`` and ``sensitivity.png``; return the rows."""
    from mmrazor.models.algorithms.quantization.sensitivity import (
        format_sensitivity,
        layer_sensitivity,
        plot_sensitivity,
    )
    from mmrazor.utils.atomic_file import atomic_open
    from mmrazor.utils.model_wrappers import unwrap_model
    model = unwrap_model(runner.model)
    inputs = []
    for data in runner.test_loop.calibrate_dataloader:
        if len(inputs) == batches:
            break
        inputs.append(model.data_preprocessor(data, False)['inputs'])
    rows = layer_sensitivity(model, inputs)
    with atomic_open(osp.join(work_dir, 'sensitivity.md')) as f:
        f.write(format_sensitivity(rows) + '\n')
    plot_sensitivity(rows, osp.join(work_dir, 'sensitivity.png'))
    print_log(f'sensitivity table and plot written to {work_dir}',
              logger='current')
    return rows


def main(argv=None) -> dict:
    """Quantize as the command line says; return the test metrics (and,
    with ``--keep-float``, ``mixed/``-prefixed metrics of the mixed model).
    """
    args = parse_args(argv)
    register_all_modules(False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    check_config(cfg, args.config)
    set_work_dir(cfg, args.config, args.work_dir)
    setup_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if not args.sensitivity:
        return metrics
    rows = sensitivity(runner, args.sensitivity, cfg.work_dir)
    if args.keep_float:
        from mmrazor.models.algorithms.quantization.sensitivity import (
            most_sensitive,
        )
        names = most_sensitive(rows, args.keep_float)
        mixed = Config(cfg.to_dict())
        keep = list(mixed.model.quantizer.get('keep_float') or []) + names
        mixed.model.quantizer.keep_float = keep
        mixed.work_dir = osp.join(cfg.work_dir, 'mixed')
        mixed.experiment_name = f'{runner.experiment_name}_mixed'
        print_log(f'PTQ again with {names} in float', logger='current')
        mixed_metrics = Runner.from_cfg(mixed).test()
        metrics.update({f'mixed/{k}': v for k, v in mixed_metrics.items()})
        metrics['mixed/keep_float'] = names
    return metrics


if __name__ == '__main__':
    main()
