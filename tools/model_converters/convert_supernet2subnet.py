# Copyright (c) OpenMMLab. All rights reserved.
"""Cut the weights of one subnet out of a NAS supernet checkpoint.

The original MMRazor's tool name and arguments: CONFIG is the NAS config
the supernet was trained with (SPOS, DSNAS, BigNAS, Autoformer...),
CHECKPOINT its checkpoint (read through mmrazor's safe loader) and YAML a
subnet file (``best_fix_subnet.yaml`` of a search). The algorithm's
architecture is fixed to the subnet and exported to a static model; its
state dict is written, with the ``architecture.`` prefix the original's
subnet configs load through
``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='architecture.')``,
to ``<checkpoint folder>/<checkpoint name>_<yaml name>.pth`` (or ``--out``).
An existing file is kept unless ``--overwrite`` is given. No data is read.

Usage:
    python tools/model_converters/convert_supernet2subnet.py \
        configs/nas/mmcls/spos/spos_shufflenet_supernet_8xb128_in1k.py \
        work_dirs/supernet/epoch_300.pth work_dirs/search/best_fix_subnet.yaml
"""
# isort: off
import mmrazor  # noqa: F401  (first: dependency check, checkpoint loader)
# isort: on
import argparse
import copy
import os.path as osp
import sys
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrazor.registry import MODELS
from mmrazor.utils.atomic_file import atomic_torch_save
from mmrazor.utils.checkpoint import load_from_local

PREFIX = 'architecture.'


def subnet_state_dict(cfg: Config, checkpoint: str,
                      subnet: str) -> Dict[str, torch.Tensor]:
    """The state dict of the subnet ``subnet`` of the supernet in
    ``checkpoint``, keys prefixed with ``architecture.``.

    Raises:
        TypeError: If ``cfg.model`` has no ``architecture``.
        ValueError: If the checkpoint does not fit the model.
        KeyError: If the subnet file does not fit the model (from
            :func:`mmrazor.structures.load_fix_subnet`).
    """
    from mmrazor.models.utils import export_static_model
    from mmrazor.structures import load_fix_subnet
    init_default_scope(cfg.get('default_scope', 'mmrazor'))
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    architecture = getattr(model, 'architecture', None)
    if not isinstance(architecture, nn.Module):
        raise TypeError(
            f'{type(model).__name__} has no `architecture`: give the config '
            'of the NAS algorithm the supernet was trained with')
    loaded = load_from_local(checkpoint, map_location='cpu')
    state = loaded.get('state_dict', loaded)
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k.startswith(PREFIX)]
    if missing or unexpected:
        raise ValueError(
            f'{checkpoint} does not fit {type(model).__name__}: missing keys '
            f'{missing[:5]}, unexpected keys {unexpected[:5]}')
    load_fix_subnet(architecture, subnet, prefix=PREFIX)
    static = export_static_model(architecture)
    return {PREFIX + k: v for k, v in static.state_dict().items()}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='NAS model config file path')
    parser.add_argument('checkpoint', help='supernet checkpoint file path')
    parser.add_argument('yaml', help='YAML with subnet settings file path')
    parser.add_argument('--out', help='output file (default: next to the '
                        'checkpoint)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output file')
    args = parser.parse_args(argv)
    if args.out:
        dst = args.out
    else:
        stem = osp.splitext(osp.basename(args.checkpoint))[0]
        name = osp.splitext(osp.basename(args.yaml))[0]
        dst = osp.join(osp.dirname(args.checkpoint), f'{stem}_{name}.pth')
    try:
        cfg = Config.fromfile(args.config)
        state = subnet_state_dict(cfg, args.checkpoint, args.yaml)
        meta = dict(converted_from=osp.basename(args.checkpoint),
                    subnet=osp.basename(args.yaml))
        atomic_torch_save({'state_dict': state, 'meta': meta}, dst,
                          overwrite=args.overwrite, what='Subnet checkpoint')
    except (FileExistsError, FileNotFoundError, KeyError, TypeError,
            ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'saved {len(state)} subnet tensors to {dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
