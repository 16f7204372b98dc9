# Copyright (c) OpenMMLab. All rights reserved.
"""Train a model from an mmrazor config with mmengine's ``Runner``.

Examples::

    python tools/train.py CONFIG
    python tools/train.py CONFIG --resume           # latest in the work dir
    python tools/train.py CONFIG --resume work_dirs/x/iter_4.pth
    python tools/train.py CONFIG --cfg-options load_from=CKPT  # weights only
    tools/dist_train.sh CONFIG 8                    # 8 GPUs with torchrun
    tools/dist_train.sh CONFIG 2 --cfg-options env_cfg.dist_cfg.backend=gloo
        env_cfg.dist_cfg.timeout=300                # 2 CPU processes

Logs and checkpoints go to ``--work-dir`` (default
``./work_dirs/<config name>``). Each run logs into its own timestamped
subfolder; checkpoints (``epoch_N.pth``, ``last_checkpoint``) and results
(subnets, search state) are written to the work dir itself. A new run into a
work dir that holds them is refused unless it resumes (``--resume``) or
``--overwrite`` is given.
"""
# isort: off
import mmrazor  # noqa: F401  (first: dependency check, checkpoint loader)
# isort: on
import argparse
import sys
import warnings

from cli_checks import (
    CfgOptionsAction,
    check_cfg_options,
    check_data,
    check_load_from,
    config_path,
)
from mmengine.config import Config
from mmengine.runner import Runner, find_latest_checkpoint
from runner_utils import (
    LAUNCHERS,
    check_amp_device,
    check_local_file,
    check_resume_checkpoint,
    check_work_dir_free,
    set_local_rank_env,
    set_work_dir,
    setup_distributed,
)

from mmrazor.engine import add_default_hooks
from mmrazor.testing.smoke import smoke_config
from mmrazor.third_party_warnings import quiet_third_party_logs
from mmrazor.utils import register_all_modules
from mmrazor.utils.weights_fit import set_min_loaded_ratio

AMP_WRAPPERS = ('OptimWrapper', 'AmpOptimWrapper')


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line of ``tools/train.py``."""
    parser = argparse.ArgumentParser(
        description='Train a model (supernet, subnet, pruned or distilled) '
        'with mmengine.')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs and checkpoints; defaults to the '
        "config's work_dir or ./work_dirs/<config name>")
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint; without a value, resume from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='allow a new run to replace the checkpoints and results an '
        'earlier run left in the work dir (refused without this flag)')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='load checkpoints that fill fewer than 10%% of the model\'s '
        'tensors (refused by default: such a load is usually a wrong prefix '
        'or the wrong file)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training (needs a CUDA, NPU, '
        'MLU or MUSA device)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual total batch size over '
        'auto_scale_lr.base_batch_size of the config')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override settings of the config, as key=value pairs merged '
        'into it, e.g. train_cfg.max_iters=10 or key="[a,b]" for a list; '
        'no white space is allowed; a key that looks like a typo of an '
        'existing one is refused')
    parser.add_argument(
        '--allow-new-keys',
        action='store_true',
        help='let --cfg-options add keys close to existing ones')
    parser.add_argument(
        '--fake-data',
        action='store_true',
        help='check the config on random images instead of its data set: '
        'downloads and checkpoints dropped, 64x64 inputs, 2 iterations '
        '(searches: 2 candidates)')
    parser.add_argument(
        '--launcher',
        choices=LAUNCHERS,
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (--local_rank before
    # torch 2.0); torchrun sets the LOCAL_RANK environment variable instead.
    parser.add_argument(
        '--local_rank', '--local-rank', type=int, default=0,
        dest='local_rank')
    args = parser.parse_args(argv)
    set_local_rank_env(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line arguments to ``cfg``.

    ``--cfg-options`` is merged first, so the dedicated flags win over it.

    Args:
        cfg (Config): The loaded config, changed in place.
        args (argparse.Namespace): The parsed arguments.

    Returns:
        Config: ``cfg``.

    Raises:
        FileNotFoundError: If ``--resume PATH`` is not a file.
        FileExistsError: If the work dir holds an earlier run's checkpoints
            or results and neither ``--resume`` nor ``--overwrite`` is
            given.
        ValueError: If ``--amp`` is given with an optimizer wrapper other
            than ``OptimWrapper``/``AmpOptimWrapper``, or
            ``--auto-scale-lr`` for a config without
            ``auto_scale_lr.base_batch_size``.
        RuntimeError: If ``--amp`` is given and no accelerator is available.
    """
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    set_work_dir(cfg, args.config, args.work_dir)

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
        if find_latest_checkpoint(cfg.work_dir) is None:
            warnings.warn(
                f'--resume: no checkpoint found in the work dir '
                f'{cfg.work_dir!r} (no last_checkpoint file); training '
                'starts from scratch. Pass --resume PATH to resume from a '
                'given checkpoint.',
                stacklevel=2)
    elif args.resume is not None:
        check_local_file(args.resume, '--resume checkpoint')
        check_resume_checkpoint(args.resume)
        cfg.resume = True
        cfg.load_from = args.resume

    if args.amp:
        wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper_type not in AMP_WRAPPERS:
            raise ValueError(
                f'--amp cannot replace optim_wrapper.type={wrapper_type!r}; '
                f'it works with {list(AMP_WRAPPERS)}. Set '
                'up mixed precision in that wrapper\'s config instead.')
        check_amp_device()
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.auto_scale_lr:
        auto_scale_lr = cfg.get('auto_scale_lr')
        if not auto_scale_lr or 'base_batch_size' not in auto_scale_lr:
            raise ValueError(
                '--auto-scale-lr needs auto_scale_lr.base_batch_size in the '
                f'config, got auto_scale_lr={auto_scale_lr!r}. Add e.g. '
                '--cfg-options auto_scale_lr.base_batch_size=1024.')
        cfg.auto_scale_lr.enable = True

    add_default_hooks(cfg)  # non-finite losses, random states in ckpts
    check_work_dir_free(cfg.work_dir, bool(cfg.get('resume')),
                        args.overwrite)
    setup_distributed(cfg, args.launcher)
    return cfg


def main(argv=None) -> None:
    """Train as the command line says."""
    args = parse_args(argv)
    if args.allow_partial_load:
        set_min_loaded_ratio(0)
    register_all_modules(False)
    try:
        cfg = Config.fromfile(config_path(args.config))
        check_cfg_options(cfg, args.cfg_options, args.allow_new_keys)
        cfg = merge_args(cfg, args)
        if args.fake_data:
            log_level = cfg.get('log_level', 'INFO')
            cfg, mode = smoke_config(cfg, cfg.work_dir)
            cfg.log_level = log_level
        else:
            mode = 'train'
            check_load_from(cfg)
            check_data(cfg, ('train', 'val'))
    except (FileExistsError, FileNotFoundError, KeyError,
            ValueError) as error:
        sys.exit(f'error: {error.args[0] if error.args else error}')
    runner = Runner.from_cfg(cfg)
    quiet_third_party_logs(runner.logger)
    getattr(runner, mode)()
    # Shut gloo down before the interpreter does: a process group left to
    # the interpreter's exit can abort the process after a finished run
    # ('terminate called without an active exception').
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
