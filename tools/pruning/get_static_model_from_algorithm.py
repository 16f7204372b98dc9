# Copyright (c) OpenMMLab. All rights reserved.
"""Export the pruned static model of a pruning checkpoint.

Builds the pruning algorithm of CONFIG (``ItePruneAlgorithm``,
``GroupFisherAlgorithm``, ``DCFF``), loads CHECKPOINT (through mmrazor's safe
loader), and writes into OUT_DIR (default ``./work_dirs/<config name>``):

- ``<checkpoint name>_pruned.pth``: the state dict of the plain, smaller
  model (``torch.load(path, weights_only=True)`` reads it);
- ``<checkpoint name>_pruned.json``: its structure, ``{unit name: kept
  channels}``;
- ``<checkpoint name>_pruned_deploy.py``: a config whose model is that
  smaller model (``GroupFisherDeploySubModel`` of the original architecture
  and the structure) with ``load_from`` set to the weights, for
  ``tools/test.py``, fine-tuning or deployment.

Existing files are never overwritten. The FLOPs and parameters of the full
and the pruned static models are printed, and with ``--latency N`` their
measured latency on this machine.

Usage:
    python tools/pruning/get_static_model_from_algorithm.py \
        CONFIG CHECKPOINT [-o OUT_DIR] [--input-shape 1 3 224 224] \
        [--latency 50]
"""
# isort: off
import mmrazor  # noqa: F401  (first: dependency check, checkpoint loader)
# isort: on
import argparse
import copy
import json
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader

from mmrazor.models.utils import export_pruned_model, export_static_model
from mmrazor.registry import MODELS, TASK_UTILS
from mmrazor.utils import register_all_modules
from mmrazor.utils.atomic_file import (
    atomic_dump_json,
    atomic_open,
    atomic_torch_save,
)

EXTRA_STATE = '_extra_state'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Export the pruned static model of a pruning checkpoint.')
    parser.add_argument('config', help='config of the pruning algorithm')
    parser.add_argument('checkpoint', help='checkpoint of the pruning run')
    parser.add_argument(
        '-o', '--out-dir', default=None,
        help='output folder (default ./work_dirs/<config name>)')
    parser.add_argument(
        '--input-shape', type=int, nargs='+', default=[1, 3, 224, 224],
        help='input shape for the FLOPs count (default 1 3 224 224)')
    parser.add_argument(
        '--latency', type=int, default=0, metavar='N',
        help='also measure the latency of the full and the pruned static '
        'models: the median of N forwards (default 0: do not)')
    return parser.parse_args(argv)


def output_paths(config: str, checkpoint: str,
                 out_dir: Optional[str]) -> Dict[str, str]:
    """The three output paths; raise if any exists."""
    if out_dir is None:
        out_dir = osp.join('work_dirs', osp.splitext(osp.basename(config))[0])
    stem = osp.splitext(osp.basename(checkpoint))[0] + '_pruned'
    paths = dict(
        weights=osp.join(out_dir, stem + '.pth'),
        structure=osp.join(out_dir, stem + '.json'),
        deploy=osp.join(out_dir, stem + '_deploy.py'))
    existing = [p for p in paths.values() if osp.exists(p)]
    if existing:
        raise FileExistsError(
            f'{existing} already exist; refusing to overwrite them. Remove '
            'them or choose another output folder with -o.')
    return paths


def build_algorithm(cfg: Config) -> nn.Module:
    """Build ``cfg.model`` as the runner would (no weight initialisation)."""
    init_default_scope(cfg.get('default_scope', 'mmrazor'))
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    if not hasattr(model, 'architecture') or not hasattr(model, 'mutator'):
        raise TypeError(
            f'{type(model).__name__} is not a pruning algorithm (it needs an '
            '`architecture` and a channel `mutator`): give the config of the '
            'pruning run')
    return model


def load_pruning_checkpoint(model: nn.Module, path: str) -> None:
    """Load ``path`` into ``model``; the structure must come with it.

    Raises:
        ValueError: Weights do not fit, or the checkpoint has no pruning
            structure (``_extra_state``) and the algorithm cannot rebuild it
            from its target.
    """
    checkpoint = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k != EXTRA_STATE]
    if missing or unexpected:
        raise ValueError(
            f'{path} does not fit {type(model).__name__}: missing keys '
            f'{missing[:5]}, unexpected keys {unexpected[:5]}')
    if EXTRA_STATE in state:
        return
    if getattr(model, 'prune_times', None) and hasattr(model, 'prune_step'):
        print(f'warning: {path} has no pruning structure ({EXTRA_STATE}); '
              'applying the final target of the config instead')
        model.prune_step(model.prune_times)
        return
    raise ValueError(f'{path} has no pruning structure ({EXTRA_STATE}); '
                     'it was not saved by this pruning algorithm')


def resources(model: nn.Module, static: nn.Module, input_shape: List[int],
              latency_iters: int = 0) -> Tuple[Dict, Dict]:
    """FLOPs and params (M) of the full and the pruned static models, and
    their CPU/GPU latency (ms, median of ``latency_iters`` runs) if asked."""
    estimator = TASK_UTILS.build(
        dict(type='mmrazor.ResourceEstimator', input_shape=input_shape,
             flops_params_cfg=dict(use_meta=False)))
    full_model = copy.deepcopy(model)
    full_model.mutator.set_max_choices()
    full_static = export_static_model(full_model.architecture).eval()
    kwargs = dict(measure_latency=latency_iters > 0)
    if latency_iters > 0:
        kwargs['latency_cfg'] = dict(
            max_iter=latency_iters, num_warmup=max(1, latency_iters // 10),
            log_interval=latency_iters + 1)
    return (estimator.estimate(full_static, **kwargs),
            estimator.estimate(static, **kwargs))


def _ratio_line(name: str, unit: str, full: Dict, pruned: Dict) -> str:
    return (f'{name}: {pruned[name]:.3f} {unit} of {full[name]:.3f} {unit} '
            f'({pruned[name] / full[name]:.3f})')


def deploy_config(cfg: Config, model: nn.Module, structure: Dict[str, int],
                  weights: str) -> Config:
    """The config of the pruned model: ``cfg`` with a
    ``GroupFisherDeploySubModel`` and ``load_from``."""
    cfg = copy.deepcopy(cfg)
    architecture = copy.deepcopy(cfg.model.architecture)
    architecture.pop('init_cfg', None)  # full-size pretrained weights
    cfg.model = dict(
        _scope_='mmrazor',
        type='GroupFisherDeploySubModel',
        architecture=architecture,
        fix_subnet=structure,
        parse_cfg=copy.deepcopy(model.mutator.parse_cfg))
    cfg.load_from = osp.abspath(weights)
    cfg.resume = False
    for key in ('model_wrapper_cfg', 'work_dir'):
        cfg.pop(key, None)
    return cfg


def main(argv: Optional[List[str]] = None) -> int:
    """Run the export; return the exit status."""
    args = parse_args(argv)
    try:
        if not osp.isfile(args.checkpoint):
            raise FileNotFoundError(
                f'checkpoint {args.checkpoint!r} is not a file')
        paths = output_paths(args.config, args.checkpoint, args.out_dir)
        register_all_modules(False)
        cfg = Config.fromfile(args.config)
        model = build_algorithm(cfg)
        load_pruning_checkpoint(model, args.checkpoint)
    except (FileExistsError, FileNotFoundError, TypeError,
            ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    model.eval()
    static, structure = export_pruned_model(model)
    atomic_torch_save(static.state_dict(), paths['weights'])
    atomic_dump_json(structure, paths['structure'], indent=4)
    deploy = deploy_config(cfg, model, structure, paths['weights'])
    with atomic_open(paths['deploy']) as f:
        f.write(deploy.pretty_text)
    full, pruned = resources(model, static, args.input_shape, args.latency)
    print(f'pruning structure: {json.dumps(structure)}')
    print(_ratio_line('flops', 'MFLOPs', full, pruned))
    print(_ratio_line('params', 'M', full, pruned))
    if args.latency > 0:
        print(_ratio_line('latency', 'ms', full, pruned) +
              f' (static models, {torch.get_num_threads()} threads)')
    for kind, path in paths.items():
        print(f'saved {kind}: {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
