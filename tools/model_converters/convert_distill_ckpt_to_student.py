# Copyright (c) OpenMMLab. All rights reserved.
"""Turn a distillation checkpoint into a plain student checkpoint.

Keeps the ``architecture.`` weights of a ``SingleTeacherDistill`` (or
``SelfDistill``...) checkpoint without that prefix, drops the teacher, the
distiller (connectors, losses) and the training state, and saves
``{'state_dict': ..., 'meta': ...}``, which ``torch.load(weights_only=True)``
reads and the student's own config loads (``load_from`` or ``--checkpoint``).

Usage:
    python tools/model_converters/convert_distill_ckpt_to_student.py \
        work_dirs/kd/epoch_100.pth resnet18_student.pth
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

import torch

PREFIX = 'architecture.'


def student_state_dict(checkpoint: Dict) -> Dict[str, torch.Tensor]:
    """The ``architecture.`` entries of a checkpoint, without the prefix.

    Args:
        checkpoint (dict): A loaded checkpoint, with or without the
            ``'state_dict'`` level.

    Returns:
        dict: The student's state dict.
    """
    state = checkpoint.get('state_dict', checkpoint)
    student = {k[len(PREFIX):]: v for k, v in state.items()
               if k.startswith(PREFIX)}
    if not student:
        heads = sorted({k.split('.')[0] for k in state})
        raise ValueError(
            f'no {PREFIX!r} keys in the checkpoint (top-level names: '
            f'{heads}); is it a distillation checkpoint?')
    return student


def convert(src: str, dst: str) -> int:
    """Write the student of ``src`` to ``dst``; return the tensor count."""
    if osp.exists(dst):
        raise FileExistsError(f'{dst} exists; refusing to overwrite it. '
                              f'Remove it or choose another output path.')
    from mmrazor.utils.checkpoint import load_from_local
    checkpoint = load_from_local(src, map_location='cpu')
    state = student_state_dict(checkpoint)
    meta = {'converted_from': osp.basename(src)}
    from mmrazor.utils.atomic_file import atomic_torch_save
    atomic_torch_save({'state_dict': state, 'meta': meta}, dst,
                      overwrite=False)
    return len(state)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='distillation checkpoint')
    parser.add_argument('dst', help='output student checkpoint')
    args = parser.parse_args(argv)
    try:
        count = convert(args.src, args.dst)
    except (FileExistsError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'saved {count} student tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
