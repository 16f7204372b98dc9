# Copyright (c) OpenMMLab. All rights reserved.
"""Find the channel units of the model of a config.

Builds ``cfg.model`` (its ``architecture`` when it is an algorithm such as
``AutoSlim``), runs ``ChannelAnalyzer`` on it and prints the prunable units
as json, then a summary with the excluded units and the report.

Usage::

    python tools/pruning/get_channel_units.py CONFIG [-o OUT]
        [--include-excluded] [--input-shape 1 3 224 224]

``OUT`` (json) holds ``{unit name: unit config}``, ready for a
``ChannelMutator``'s ``channel_unit_cfg.units`` with ``parse_cfg=dict(
type='Config')``. With ``--include-excluded`` it holds ``{'units': ...,
'excluded_units': ..., 'report': ...}`` instead. An existing ``OUT`` is
never overwritten.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional

import torch.nn as nn
from mmengine.config import Config


def build_model(cfg: Config) -> nn.Module:
    """The model of ``cfg``: ``cfg.model``, or its ``architecture``.

    An architecture without a ``_scope_`` gets the algorithm's, as the
    algorithm would build it.

    Args:
        cfg (Config): A loaded config with a ``model``.

    Returns:
        nn.Module: The built model (weights are not initialised).
    """
    import mmcls.models  # noqa: F401  (registers mmcls models)
    from mmengine.registry import DefaultScope

    from mmrazor.registry import MODELS
    from mmrazor.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    if 'model' not in cfg:
        raise KeyError(f'the config has no `model`; top-level keys: '
                       f'{sorted(cfg.keys())}')
    model_cfg = dict(cfg.model)
    if 'architecture' in model_cfg:
        arch = model_cfg['architecture']
        if not isinstance(arch, dict):
            raise TypeError(f'model.architecture must be a config dict, got '
                            f'{type(arch).__name__}')
        scope = model_cfg.get('_scope_')
        model_cfg = dict(arch)
        if scope is not None:
            model_cfg.setdefault('_scope_', scope)
    scope = cfg.get('default_scope', 'mmrazor')
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(model_cfg)


def analyze(cfg: Config, input_shape: List[int]):
    """Run ``ChannelAnalyzer`` on the model of ``cfg``.

    Returns:
        ChannelAnalyzer: The analyzer, after :meth:`analyze`.
    """
    from mmrazor.models.task_modules.tracer import ChannelAnalyzer
    analyzer = ChannelAnalyzer(demo_input=tuple(input_shape))
    analyzer.analyze(build_model(cfg))
    return analyzer


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('-o', '--out', help='json file to write the units to '
                        '(must not exist)')
    parser.add_argument('--include-excluded', action='store_true',
                        help='also output the excluded units and the report')
    parser.add_argument('--input-shape', type=int, nargs='+',
                        default=[1, 3, 224, 224],
                        help='demo input shape, batch included')
    args = parser.parse_args(argv)
    if args.out and osp.exists(args.out):
        print(f'error: {args.out} exists; refusing to overwrite it. Remove '
              f'it or choose another output path.', file=sys.stderr)
        return 1
    if not osp.isfile(args.config):
        print(f'error: config {args.config} not found', file=sys.stderr)
        return 1
    analyzer = analyze(Config.fromfile(args.config), args.input_shape)
    result = analyzer.units
    if args.include_excluded:
        result = dict(units=analyzer.units,
                      excluded_units=analyzer.excluded_units,
                      report=analyzer.report)
    text = json.dumps(result, indent=2)
    print(text)
    print(analyzer.summary())
    if args.out:
        from mmrazor.utils.atomic_file import atomic_open
        with atomic_open(args.out, overwrite=False) as f:
            f.write(text + '\n')
        print(f'saved {len(analyzer.units)} units to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
