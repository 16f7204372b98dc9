# Copyright (c) OpenMMLab. All rights reserved.
"""Write the config that prunes a model by filter L1 norm.

The original MMRazor's tool name and flags. CONFIG is a plain model config
(e.g. ``mmcls::resnet/resnet34_8xb32_in1k.py``); the written config wraps
its model in an ``ItePruneAlgorithm`` with ``L1MutableChannelUnit`` units
in ratio mode (found by the ``ChannelAnalyzer``) and a
``target_pruning_ratio`` naming every unit: 1.0 (keep all) to edit by
hand, or the ratios of ``--subnet`` (a json/yaml ``{unit: ratio}`` file,
read safely and checked against the units). ``--checkpoint`` becomes the
architecture's ``Pretrained`` weights. The rest of CONFIG (data, schedule)
is kept, and ``val_cfg`` becomes ``ItePruneValLoop``. An existing output
is kept unless ``--overwrite`` is given.

Usage:
    python tools/pruning/get_l1_prune_config.py \
        mmcls::resnet/resnet34_8xb32_in1k.py -o prune_r34.py \
        [--checkpoint r34.pth] [--subnet ratios.json]
"""
# isort: off
import mmrazor  # noqa: F401  (first: dependency check, checkpoint loader)
# isort: on
import argparse
import copy
import os
import sys
import tempfile
from typing import Any, Dict, List, Optional

from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

from mmrazor.registry import MODELS
from mmrazor.utils.atomic_file import atomic_open
from mmrazor.utils.dict_file import load_dict

MUTATOR_CFG = dict(
    type='ChannelMutator',
    channel_unit_cfg=dict(
        type='L1MutableChannelUnit', default_args=dict(choice_mode='ratio')),
    parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 224, 224)))


def load_config(path: str) -> Config:
    """A config file, or a packaged one named ``scope::path``."""
    if '::' in path:
        from mmengine.hub import get_config
        return get_config(path)
    return Config.fromfile(path)


def unit_ratios(cfg: Config, subnet: Optional[str]) -> Dict[str, Any]:
    """``{unit name: ratio}`` of the model of ``cfg``: 1.0 each, or those
    of the ``subnet`` file (which must name every unit, with ratios the
    units accept)."""
    init_default_scope(cfg.get('default_scope', 'mmrazor'))
    model = MODELS.build(copy.deepcopy(cfg.model))
    mutator = MODELS.build(dict(copy.deepcopy(MUTATOR_CFG),
                                _scope_='mmrazor'))
    mutator.prepare_from_supernet(model)
    if subnet is None:
        mutator.set_max_choices()
    else:
        mutator.set_choices(load_dict(subnet, '--subnet', '{unit: ratio}'))
    return {k: float(v) for k, v in mutator.current_choices.items()}


def prune_config(cfg: Config, ratios: Dict[str, Any],
                 checkpoint: Optional[str]) -> Config:
    """``cfg`` with its model wrapped in an ``ItePruneAlgorithm``."""
    cfg = copy.deepcopy(cfg)
    architecture = copy.deepcopy(cfg.model)
    architecture.setdefault('_scope_', cfg.get('default_scope', 'mmcls'))
    if checkpoint is not None:
        architecture['init_cfg'] = dict(type='Pretrained',
                                        checkpoint=checkpoint)
    if cfg.get('data_preprocessor') is not None:
        architecture.setdefault('data_preprocessor', cfg.data_preprocessor)
        cfg.data_preprocessor = None
    cfg.model = ConfigDict(
        _scope_='mmrazor',
        type='ItePruneAlgorithm',
        architecture=architecture,
        mutator_cfg=copy.deepcopy(MUTATOR_CFG),
        target_pruning_ratio=ratios,
        step_freq=1,
        prune_times=1)
    cfg.val_cfg = ConfigDict(type='mmrazor.ItePruneValLoop')
    return cfg


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config of the model')
    parser.add_argument('--checkpoint', help='checkpoint of the model')
    parser.add_argument('--subnet', help='json/yaml {unit: ratio} file')
    parser.add_argument('-o', default='./prune.py',
                        help='output path of the pruning config')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output file')
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
        ratios = unit_ratios(cfg, args.subnet)
        out = prune_config(cfg, ratios, args.checkpoint)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'prune.py')
            out.dump(path)
            with open(path, encoding='utf-8') as f:
                text = f.read()
        with atomic_open(args.o, 'w', overwrite=args.overwrite,
                         what='Pruning config') as f:
            f.write(text)
    except (FileExistsError, FileNotFoundError, KeyError, TypeError,
            ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {args.o}: ItePruneAlgorithm over {len(ratios)} units')
    return 0


if __name__ == '__main__':
    sys.exit(main())
