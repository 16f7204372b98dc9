# Copyright (c) OpenMMLab. All rights reserved.
"""Print the FLOPs and parameters of the model of a config.

The original MMRazor's tool name and flags: CONFIG is any model config (a
pruning or NAS algorithm, its deploy config, a plain mmcls classifier);
its ``model`` is built as the runner builds it, without weights, and
counted by mmrazor's ``ResourceEstimator`` on a ``1 x 3 x H x W`` input
(an algorithm at its current structure: a supernet at its current subnet,
a pruning algorithm before any pruning step). No data is read.

Usage:
    python tools/pruning/get_flops.py \
        configs/pruning/mmcls/l1-norm/l1-norm_resnet34_8xb32_in1k_a_deploy.py \
        -H 224 -W 224
"""
# isort: off
import mmrazor  # noqa: F401  (first: dependency check, checkpoint loader)
# isort: on
import argparse
import copy
import sys
from typing import Dict, List, Optional

from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrazor.models.task_modules.estimators import build_estimator
from mmrazor.registry import MODELS


def config_resources(cfg: Config, height: int, width: int) -> Dict:
    """FLOPs and parameters (in millions) of ``cfg.model``."""
    init_default_scope(cfg.get('default_scope', 'mmrazor'))
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None and \
            isinstance(model_cfg, dict):
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    estimator = build_estimator(dict(input_shape=(1, 3, height, width)))
    return estimator.estimate(model.eval())


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config file path')
    parser.add_argument('-H', default=224, type=int, help='input height')
    parser.add_argument('-W', default=224, type=int, help='input width')
    args = parser.parse_args(argv)
    for name, value in (('-H', args.H), ('-W', args.W)):
        if value <= 0:
            parser.error(f'{name} must be a positive number of pixels, '
                         f'got {value}')
    try:
        result = config_resources(Config.fromfile(args.config), args.H,
                                  args.W)
    except (FileNotFoundError, KeyError, TypeError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'input 1x3x{args.H}x{args.W}: {result["flops"]:.3f} MFLOPs, '
          f'{result["params"]:.3f} M parameters')
    print(result)
    return 0


if __name__ == '__main__':
    sys.exit(main())
