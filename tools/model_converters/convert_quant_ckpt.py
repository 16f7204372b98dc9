# Copyright (c) OpenMMLab. All rights reserved.
"""Turn a quantization checkpoint into what deployment or mmcls reads.

The source is any checkpoint of an ``MMArchitectureQuant``: the
``model_ptq.pth`` of ``tools/ptq.py`` or an ``epoch_N.pth`` of a QAT/LSQ
run (with its optimizer and message hub). The suffix of the output says
what is written:

- ``.pth``: ``{'state_dict', 'meta'}`` with plain tensors only, loadable
  with ``torch.load(weights_only=True)``, by ``load_from`` and by
  ``tools/test.py`` (the quantized model: weights, scales, observers);
  with ``--float``, the float architecture's weights without the
  ``architecture.`` prefix, for the mmcls config of the model (e.g. the
  weights QAT fine-tuned, to quantize again or to deploy in fp32);
- ``.pt2``: the int8 program (``torch.export.save``; no pickle), which
  ``torch.export.load(path).module()`` runs (needs ``--config``);
- ``.onnx``: QDQ ONNX for onnxruntime, OpenVINO or TensorRT (needs
  ``--config``).

Usage::

    python tools/model_converters/convert_quant_ckpt.py \\
        work_dirs/qat/epoch_10.pth qat_resnet18.pth
    python tools/model_converters/convert_quant_ckpt.py \\
        work_dirs/qat/epoch_10.pth resnet18_float.pth --float
    python tools/model_converters/convert_quant_ckpt.py \\
        work_dirs/ptq/model_ptq.pth resnet18_int8.onnx --config CONFIG

Nothing is overwritten without ``--overwrite``.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

import torch

PREFIX = 'architecture.'
QUANT_MARKS = ('activation_post_process', 'qmodel.')
FORMATS = ('.pth', '.pt2', '.onnx')


def quant_state_dict(checkpoint: Dict) -> Dict[str, torch.Tensor]:
    """The state dict of a quantization checkpoint, checked.

    Args:
        checkpoint (dict): A loaded checkpoint, with or without the
            ``'state_dict'`` level.

    Returns:
        dict: Its state dict (tensors only).
    """
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict) or not any(
            mark in k for k in state for mark in QUANT_MARKS):
        heads = sorted({k.split('.')[0] for k in state}) if isinstance(
            state, dict) else type(state).__name__
        raise ValueError(
            f'no quantizer state ({" or ".join(QUANT_MARKS)} keys) in the '
            f'checkpoint (top-level names: {heads}); is it a checkpoint of '
            'MMArchitectureQuant (tools/ptq.py, QAT or LSQ)?')
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f'state dict entries that are not tensors: {bad[:5]}')
    return state


def float_state_dict(state: Dict[str, torch.Tensor]) -> Dict:
    """The float architecture's entries of ``state``, without the prefix.
    """
    return {k[len(PREFIX):]: v for k, v in state.items()
            if k.startswith(PREFIX)}


def uncalibrated(model: torch.nn.Module) -> List[str]:
    """Names of the fake quantizers of ``model`` that never saw data
    (observer ranges still infinite or empty; LSQ step sizes not set)."""
    names = []
    quant = {id(m) for m in model.quant_modules()}
    for name, m in model.qmodel.named_modules():
        if id(m) not in quant:
            continue
        if hasattr(m, '_initialized') and hasattr(m, 'learning_enabled'):
            if not m._initialized:
                names.append(name)
            continue
        low = getattr(getattr(m, 'activation_post_process', None),
                      'min_val', None)
        if low is not None and (low.numel() == 0
                                or not torch.isfinite(low).all()):
            names.append(name)
    return names


def build_quant_model(config: str, state: Dict[str, torch.Tensor],
                      cfg_options: Optional[Dict] = None) -> torch.nn.Module:
    """Build the config's ``MMArchitectureQuant`` and load ``state``."""
    from mmengine.config import Config

    from mmrazor.registry import MODELS
    from mmrazor.utils import register_all_modules
    register_all_modules(False)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.model.get('type', '').split('.')[-1] != 'MMArchitectureQuant':
        raise ValueError(f'{config}: model.type must be MMArchitectureQuant, '
                         f'got {cfg.model.get("type")!r}')
    cfg.model.float_checkpoint = None  # the checkpoint holds the weights
    model = MODELS.build(cfg.model)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(
            f'the checkpoint does not fit {config}: {len(missing)} missing '
            f'keys (e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. '
            f'{unexpected[:3]}); pass the config the checkpoint was made '
            'with')
    left = uncalibrated(model)
    if left:
        raise ValueError(
            f'{len(left)} fake quantizers of the checkpoint never saw data '
            f'(e.g. {left[:3]}): calibrate first (tools/ptq.py) or convert '
            'a QAT/LSQ checkpoint written after training')
    return model.eval()


def convert(src: str, dst: str, to_float: bool = False,
            config: Optional[str] = None,
            cfg_options: Optional[Dict] = None,
            overwrite: bool = False) -> str:
    """Write what ``dst``'s suffix names from the checkpoint ``src``.

    Returns:
        str: A one-line summary of what was written.
    """
    suffix = osp.splitext(dst)[1]
    if suffix not in FORMATS:
        raise ValueError(f'output {dst!r}: suffix {suffix!r}; allowed: '
                         f'{list(FORMATS)}')
    if to_float and suffix != '.pth':
        raise ValueError('--float writes a .pth state dict, got '
                         f'{dst!r}')
    if suffix != '.pth' and not config:
        raise ValueError(f'a {suffix} output needs --config (the config '
                         'the checkpoint was made with)')
    if osp.exists(dst) and not overwrite:
        raise FileExistsError(f'{dst} exists; refusing to overwrite it '
                              '(pass --overwrite or choose another path)')
    from mmrazor.utils.checkpoint import load_from_local
    state = quant_state_dict(load_from_local(src, map_location='cpu'))
    meta = dict(converted_from=osp.basename(src),
                time=time.strftime('%Y%m%d_%H%M%S'))
    if suffix == '.pth':
        from mmrazor.utils.atomic_file import atomic_torch_save
        if to_float:
            state = float_state_dict(state)
            meta['content'] = 'float architecture'
        else:
            meta['content'] = 'MMArchitectureQuant'
        atomic_torch_save(dict(state_dict=state, meta=meta), dst,
                          overwrite=overwrite, what='Checkpoint')
        return f'saved {len(state)} tensors ({meta["content"]}) to {dst}'
    from mmrazor.models.algorithms.quantization import deploy
    model = build_quant_model(config, state, cfg_options)
    example = (torch.randn(2, *model.input_shapes[1:]), )
    converted = model.get_deploy_model()
    if suffix == '.pt2':
        deploy.save_int8_program(converted, example, dst)
    else:
        deploy.export_qdq_onnx(converted, example, dst)
    return (f'saved the int8 model ({suffix[1:]}, inputs (N, '
            f'{", ".join(map(str, model.input_shapes[1:]))})) to {dst}')


def main(argv: Optional[List[str]] = None) -> int:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='quantization checkpoint')
    parser.add_argument('dst', help='output: .pth, .pt2 or .onnx')
    parser.add_argument('--float', action='store_true', dest='to_float',
                        help='write the float architecture weights (.pth)')
    parser.add_argument('--config', help='the checkpoint\'s config (for '
                        '.pt2 and .onnx)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output')
    args = parser.parse_args(argv)
    try:
        print(convert(args.src, args.dst, args.to_float, args.config,
                      args.cfg_options, args.overwrite))
    except (FileExistsError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
