# Copyright (c) OpenMMLab. All rights reserved.
"""Test (evaluate) a checkpoint on the test set of an mmrazor config.

Examples::

    python tools/test.py CONFIG work_dirs/x/iter_4.pth
    python tools/test.py CONFIG CKPT --out results.pkl   # dump predictions
    bash tools/dist_test.sh CONFIG CKPT 8                # 8 GPUs, torchrun

The metrics are logged (and returned by ``runner.test()``) under the work
dir, default ``./work_dirs/<config name>``.
"""
# isort: off
import mmrazor  # noqa: F401  (first: dependency check, checkpoint loader)
# isort: on
import argparse
import os.path as osp
import sys

from cli_checks import check_data, config_path
from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner
from runner_utils import (
    LAUNCHERS,
    check_local_file,
    set_local_rank_env,
    set_work_dir,
    setup_distributed,
)

from mmrazor.third_party_warnings import quiet_third_party_logs
from mmrazor.utils import register_all_modules
from mmrazor.utils.weights_fit import set_min_loaded_ratio

OUT_SUFFIXES = ('.pkl', '.pickle')


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line of ``tools/test.py``."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a checkpoint with mmengine.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs and metrics; defaults to the config\'s '
        'work_dir or ./work_dirs/<config name>')
    parser.add_argument(
        '--out',
        help='dump the predictions to this pickle file (.pkl or .pickle)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs merged '
        'into it, e.g. test_dataloader.batch_size=32 or key="[a,b]" for a '
        'list; no white space is allowed')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='load checkpoints that fill fewer than 10%% of the model\'s '
        'tensors (refused by default: such a load is usually a wrong prefix '
        'or the wrong file)')
    parser.add_argument(
        '--launcher',
        choices=LAUNCHERS,
        default='none',
        help='job launcher')
    parser.add_argument(
        '--local_rank', '--local-rank', type=int, default=0,
        dest='local_rank')
    args = parser.parse_args(argv)
    set_local_rank_env(args.local_rank)
    return args


def check_args(args: argparse.Namespace) -> None:
    """Check the arguments before anything is built.

    Args:
        args (argparse.Namespace): The parsed arguments.

    Raises:
        FileNotFoundError: If the checkpoint is a local path that is not a
            file.
        ValueError: If ``--out`` does not end with ``.pkl``/``.pickle``.
    """
    check_local_file(args.checkpoint, 'checkpoint')
    if args.out is not None and osp.exists(args.out):
        raise FileExistsError(
            f'--out {args.out!r} already exists; mmrazor does not overwrite '
            'it. Remove it or choose another path.')
    if args.out is not None and not args.out.endswith(OUT_SUFFIXES):
        raise ValueError(
            f'--out {args.out!r} must end with one of {list(OUT_SUFFIXES)}: '
            'predictions are dumped as a pickle.')


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line arguments to ``cfg``.

    Args:
        cfg (Config): The loaded config, changed in place.
        args (argparse.Namespace): The parsed arguments.

    Returns:
        Config: ``cfg``.
    """
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    set_work_dir(cfg, args.config, args.work_dir)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    setup_distributed(cfg, args.launcher)
    return cfg


def main(argv=None) -> dict:
    """Test as the command line says.

    Returns:
        dict: The metrics of the test set.
    """
    args = parse_args(argv)
    check_args(args)
    if args.allow_partial_load:
        set_min_loaded_ratio(0)
    register_all_modules(False)
    try:
        cfg = Config.fromfile(config_path(args.config))
        cfg = merge_args(cfg, args)
        check_data(cfg, ('test', ))
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f'error: {error.args[0] if error.args else error}')
    runner = Runner.from_cfg(cfg)
    quiet_third_party_logs(runner.logger)
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    # The config's log_level may hide the runner's own metrics line.
    print('metrics: ' + ', '.join(f'{k}: {v:.4f}' if isinstance(
        v, float) else f'{k}: {v}' for k, v in (metrics or {}).items()))
    return metrics


if __name__ == '__main__':
    main()
