# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers shared by ``tools/train.py`` and ``tools/test.py``.

They turn command-line arguments into config fields before mmengine's
``Runner`` is built: the default work dir, and what a distributed run needs
when no CUDA device is available (mmengine 0.10.7 assumes CUDA there).
"""
import datetime
import os
import os.path as osp
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.device import (
    is_cuda_available,
    is_mlu_available,
    is_musa_available,
    is_npu_available,
)
from mmengine.dist import is_distributed
from torch.nn.parallel import DistributedDataParallel

from mmrazor.registry import MODEL_WRAPPERS

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def has_accelerator() -> bool:
    """Whether mmengine sees a CUDA, NPU, MLU or MUSA device."""
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


def set_local_rank_env(local_rank: int) -> None:
    """Export ``LOCAL_RANK`` for launchers that pass ``--local-rank``.

    ``torch.distributed.run`` (torchrun) sets the variable itself; the
    deprecated ``torch.distributed.launch`` passes the argument instead.

    Args:
        local_rank (int): Value of the ``--local-rank`` argument.
    """
    os.environ.setdefault('LOCAL_RANK', str(local_rank))


def set_work_dir(cfg: Config, config_path: str,
                 work_dir: Optional[str]) -> None:
    """Set ``cfg.work_dir``: the CLI value, the config's, or the default.

    The default is ``./work_dirs/<config file name without extension>``.

    Args:
        cfg (Config): The config, changed in place.
        config_path (str): Path of the config file.
        work_dir (str, optional): The ``--work-dir`` argument.
    """
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = osp.splitext(osp.basename(config_path))[0]
        cfg.work_dir = osp.join('./work_dirs', name)


# What a run leaves directly in its work dir (logs go to timestamped
# subfolders): checkpoints and the results of searches and pruning.
RUN_OUTPUT_SUFFIXES = ('.pth', '.json', '.yaml', '.yml', '.csv', '.png')


def previous_run_outputs(work_dir: str) -> list:
    """Names of the files a previous run left directly in ``work_dir``."""
    if not osp.isdir(work_dir):
        return []
    return sorted(
        name for name in os.listdir(work_dir)
        if osp.isfile(osp.join(work_dir, name)) and (
            name == 'last_checkpoint' or name.endswith(RUN_OUTPUT_SUFFIXES)))


def check_work_dir_free(work_dir: str, resume: bool, overwrite: bool) -> None:
    """Refuse to start a new run over another run's checkpoints or results.

    Args:
        work_dir (str): The run's work dir.
        resume (bool): Whether the run resumes (it then continues the files
            that are there).
        overwrite (bool): Whether the user allowed replacing them.

    Raises:
        FileExistsError: If ``work_dir`` holds checkpoints or results and
            the run neither resumes nor may overwrite; the message lists
            them and the flags to use.
    """
    if resume or overwrite:
        return
    found = previous_run_outputs(work_dir)
    if found:
        shown = ', '.join(found[:5]) + (', ...' if len(found) > 5 else '')
        raise FileExistsError(
            f'The work dir {work_dir!r} holds the checkpoints or results of '
            f'an earlier run ({shown}); a new run would overwrite them. '
            'Pass --resume to continue that run, --work-dir DIR to start '
            'afresh elsewhere, or --overwrite to replace them.')


def check_resume_checkpoint(path: str) -> None:
    """Raise unless ``path`` is a training checkpoint ``--resume`` can use.

    Args:
        path (str): A local checkpoint path (remote ones are not checked).

    Raises:
        ValueError: If the file holds no ``meta`` and ``state_dict`` (e.g. a
            plain state dict, or a converted/exported model).
    """
    if '://' in path:
        return
    from mmrazor.utils.checkpoint import load_from_local
    checkpoint = load_from_local(path, map_location='cpu')
    if not isinstance(checkpoint, dict) or not {'meta', 'state_dict'} <= set(
            checkpoint):
        keys = sorted(checkpoint)[:5] if isinstance(checkpoint, dict) else \
            type(checkpoint).__name__
        raise ValueError(
            f'--resume {path!r} is not a training checkpoint (it has no '
            f"'meta' and 'state_dict'; it holds {keys}). Resuming needs a "
            'checkpoint the runner saved (epoch_N.pth / iter_N.pth); to '
            'start from these weights, use --cfg-options load_from=PATH.')


def check_local_file(path: str, what: str) -> None:
    """Raise if ``path`` is a local path that is not a file.

    Paths with a scheme (``https://``, ``s3://``, ``mmcls://``, ...) are left
    to mmengine's ``CheckpointLoader``.

    Args:
        path (str): The path given by the user.
        what (str): What the path is for, used in the message, e.g.
            ``'checkpoint'``.

    Raises:
        FileNotFoundError: If ``path`` has no scheme and is not a file.
    """
    if '://' in path:
        return
    full_path = osp.abspath(osp.expanduser(path))
    if not osp.isfile(full_path):
        where = '' if full_path == path else f' (resolved to {full_path!r})'
        raise FileNotFoundError(
            f'The {what} file {path!r}{where} does not exist or is not a '
            'file. Check the path.')


def setup_distributed(cfg: Config, launcher: str) -> None:
    """Set ``cfg.launcher`` and make a distributed run work on CPU.

    With an accelerator, or with ``launcher='none'``, only ``cfg.launcher``
    is set and mmengine's ``Runner`` does the rest. Without one, mmengine
    0.10.7 cannot run distributed as it is: its ``init_dist`` calls
    ``torch.cuda.set_device`` and its default model wrapper passes
    ``device_ids=[LOCAL_RANK]``, which ``DistributedDataParallel`` refuses
    for a CPU model. So, for the ``pytorch`` launcher (torchrun):

    - the default process group is initialised here from the environment
      torchrun sets, with ``env_cfg.dist_cfg`` (the ``Runner`` then skips
      its own ``init_dist``);
    - ``model_wrapper_cfg`` gets ``device_ids=None``; when the config has
      none, it becomes the ``MMDistributedDataParallel`` the ``Runner``
      would build, with the config's ``find_unused_parameters``.

    Args:
        cfg (Config): The config, changed in place.
        launcher (str): One of ``'none'``, ``'pytorch'``, ``'slurm'``,
            ``'mpi'``.

    Raises:
        ValueError: If ``launcher`` is unknown, or if, without an
            accelerator, the launcher is not ``'pytorch'`` or the backend is
            not ``'gloo'``.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(
            f'Unknown launcher {launcher!r}; accepted: {list(LAUNCHERS)}.')
    cfg.launcher = launcher
    if launcher == 'none' or has_accelerator():
        return
    init_kwargs = cpu_process_group_kwargs(cfg, launcher)
    if not is_distributed():
        torch_dist.init_process_group(**init_kwargs)
    set_cpu_model_wrapper(cfg)


def cpu_process_group_kwargs(cfg: Config, launcher: str) -> dict:
    """Check a CPU distributed run and return its process group arguments.

    Args:
        cfg (Config): The config; ``env_cfg.dist_cfg`` is read.
        launcher (str): The launcher, which must be ``'pytorch'``.

    Returns:
        dict: Keyword arguments of ``torch.distributed.init_process_group``:
        ``backend`` and the other ``dist_cfg`` entries, ``timeout``
        (seconds) turned into a ``timedelta``.

    Raises:
        ValueError: If the launcher is not ``'pytorch'``, the backend not
            ``'gloo'`` or ``dist_cfg.init_backend`` not ``'torch'``.
    """
    if launcher != 'pytorch':
        raise ValueError(
            f'--launcher {launcher} needs CUDA devices (mmengine calls '
            'torch.cuda.set_device) and none is available. To run on CPU, '
            'launch with torchrun (tools/dist_train.sh or tools/dist_test.sh'
            ', which pass --launcher pytorch) and --cfg-options '
            'env_cfg.dist_cfg.backend=gloo env_cfg.dist_cfg.timeout=300.')
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    backend = dist_cfg.pop('backend', 'nccl')
    if backend != 'gloo':
        raise ValueError(
            f'env_cfg.dist_cfg.backend={backend!r} needs CUDA devices and '
            "none is available; only 'gloo' runs on CPU. Pass --cfg-options "
            'env_cfg.dist_cfg.backend=gloo env_cfg.dist_cfg.timeout=300 (a '
            'hung peer then fails the others in 5 minutes, not 30).')
    init_backend = dist_cfg.pop('init_backend', 'torch')
    if init_backend != 'torch':
        raise ValueError(
            f'env_cfg.dist_cfg.init_backend={init_backend!r} is not '
            "supported on CPU; accepted: 'torch'.")
    if dist_cfg.get('timeout') is not None:
        dist_cfg['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
    return dict(backend=backend, **dist_cfg)


def set_cpu_model_wrapper(cfg: Config) -> None:
    """Make the distributed model wrapper of ``cfg`` accept a CPU model.

    Without ``model_wrapper_cfg``, sets the ``MMDistributedDataParallel``
    that mmengine's ``Runner`` builds by default (``broadcast_buffers=False``
    and the config's ``find_unused_parameters``) with ``device_ids=None``.
    With one whose type is a ``DistributedDataParallel``, adds
    ``device_ids=None`` unless it sets ``device_ids`` itself; other wrapper
    types are left alone.

    Args:
        cfg (Config): The config, changed in place.
    """
    wrapper_cfg = cfg.get('model_wrapper_cfg')
    if wrapper_cfg is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False),
            device_ids=None)
        return
    wrapper_type = wrapper_cfg.get('type', 'MMDistributedDataParallel')
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    if isinstance(wrapper_type, type) and issubclass(
            wrapper_type, DistributedDataParallel):
        wrapper_cfg.setdefault('device_ids', None)


def check_amp_device() -> None:
    """Raise if ``--amp`` cannot work on this machine.

    mmengine 0.10.7's ``AmpOptimWrapper`` needs a CUDA, NPU, MLU or MUSA
    device (it asserts so and uses a CUDA ``GradScaler``); it has no CPU
    (bfloat16) mode.

    Raises:
        RuntimeError: If no such device is available.
    """
    if not has_accelerator():
        raise RuntimeError(
            '--amp needs a CUDA, NPU, MLU or MUSA device: mmengine\'s '
            'AmpOptimWrapper does not support CPU, and none is available '
            f'(torch {torch.__version__}, torch.cuda.is_available()='
            f'{torch.cuda.is_available()}). Run without --amp to train in '
            'float32 on CPU.')
