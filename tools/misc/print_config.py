# Copyright (c) OpenMMLab. All rights reserved.
"""Print a config with its bases merged and ``--cfg-options`` applied.

Usage:
    python tools/misc/print_config.py CONFIG [--cfg-options key=value ...]
"""
import argparse
import sys
from typing import List, Optional

from mmengine.config import Config, DictAction


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. model.backbone.depth=50')
    parser.add_argument(
        '--options', nargs='+', action=DictAction,
        help='the original name of --cfg-options (deprecated)')
    args = parser.parse_args(argv)
    if args.options and args.cfg_options:
        parser.error('--options and --cfg-options cannot both be given')
    try:
        cfg = Config.fromfile(args.config)
    except (FileNotFoundError, OSError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    options = args.cfg_options or args.options
    if options:
        cfg.merge_from_dict(options)
    print(f'Config:\n{cfg.pretty_text}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
