# Copyright (c) OpenMMLab. All rights reserved.
"""Prepare a checkpoint for release (the original MMRazor's tool).

Drops the optimizer, message hub and parameter-scheduler states, saves the
rest as ``<out-dir>/<model-name>_<timestamp>-<sha256[:8]>.pth`` and copies
the run's log and scalar json (``<ckpt dir>/<timestamp>/<timestamp>.log``
and ``vis_data/<timestamp>.json``) beside it when they exist. The
checkpoint is read with the weights-only loader; nothing existing is
overwritten.

Usage:
    python tools/model_converters/publish_model.py work_dirs/x/epoch_1.pth \
        --model-name spos_shufflenet --timestamp 20230101_000000 \
        --out-dir publish/
"""
import argparse
import hashlib
import os
import os.path as osp
import shutil
import sys
import tempfile
from typing import List, Optional

TRAINING_STATE = ('optimizer', 'message_hub', 'param_schedulers')


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 16), b''):
            digest.update(block)
    return digest.hexdigest()


def publish(ckpt: str, model_name: str, timestamp: str,
            out_dir: str) -> List[str]:
    """Write the release files; return their paths."""
    import torch

    from mmrazor.utils.checkpoint import load_from_local
    checkpoint = load_from_local(ckpt, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{ckpt} does not hold a checkpoint dict')
    for key in TRAINING_STATE:
        checkpoint.pop(key, None)
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.pth', dir=out_dir)
    os.close(fd)
    try:
        torch.save(checkpoint, tmp)
        stem = osp.join(out_dir, f'{model_name}_{timestamp}-'
                        f'{sha256_of(tmp)[:8]}')
        if osp.exists(stem + '.pth'):
            raise FileExistsError(f'{stem}.pth exists; refusing to '
                                  'overwrite it')
        os.replace(tmp, stem + '.pth')
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    written = [stem + '.pth']
    run_dir = osp.join(osp.dirname(ckpt), timestamp)
    for src, ext in ((osp.join(run_dir, f'{timestamp}.log'), '.log'),
                     (osp.join(run_dir, 'vis_data', f'{timestamp}.json'),
                      '.json')):
        if osp.isfile(src) and not osp.exists(stem + ext):
            shutil.copyfile(src, stem + ext)
            written.append(stem + ext)
    return written


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ckpt', help='input checkpoint filename')
    parser.add_argument('--model-name', required=True,
                        help='model (config) name')
    parser.add_argument('--timestamp', required=True,
                        help='training timestamp (the run folder name)')
    parser.add_argument('--out-dir', required=True, help='output folder')
    args = parser.parse_args(argv)
    try:
        written = publish(args.ckpt, args.model_name, args.timestamp,
                          args.out_dir)
    except (FileExistsError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    for path in written:
        print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
