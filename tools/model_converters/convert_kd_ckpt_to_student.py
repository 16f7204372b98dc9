# Copyright (c) OpenMMLab. All rights reserved.
"""Turn a distillation checkpoint into a student checkpoint (the original
MMRazor's tool name and flags; see ``convert_distill_ckpt_to_student.py``).

Writes ``<out-path or the checkpoint's folder>/<name>_student.pth``, or with
``--inplace`` replaces the checkpoint itself. An existing output is kept
unless ``--overwrite`` is given.

Usage:
    python tools/model_converters/convert_kd_ckpt_to_student.py \
        work_dirs/kd/epoch_100.pth --out-path students/
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from convert_distill_ckpt_to_student import student_state_dict


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='input checkpoint filename')
    parser.add_argument('--out-path', help='folder of the student checkpoint')
    parser.add_argument('--inplace', action='store_true',
                        help='replace the input checkpoint')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output file')
    args = parser.parse_args(argv)
    from mmrazor.utils.atomic_file import atomic_torch_save
    from mmrazor.utils.checkpoint import load_from_local
    if args.inplace:
        dst = args.checkpoint
    else:
        stem = osp.splitext(osp.basename(args.checkpoint))[0]
        folder = args.out_path or osp.dirname(args.checkpoint) or '.'
        dst = osp.join(folder, f'{stem}_student.pth')
    try:
        checkpoint = load_from_local(args.checkpoint, map_location='cpu')
        state = student_state_dict(checkpoint)
        meta = dict(checkpoint.get('meta') or {},
                    converted_from=osp.basename(args.checkpoint))
        atomic_torch_save({'state_dict': state, 'meta': meta}, dst,
                          overwrite=args.inplace or args.overwrite,
                          what='Student checkpoint')
    except (FileExistsError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'saved {len(state)} student tensors to {dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
