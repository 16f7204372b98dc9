# Copyright (c) OpenMMLab. All rights reserved.
"""Utilities: environment set-up, dependency checks and shared types."""
from .misc import (
                   IndexDict,
                   RuntimeInfo,
                   find_latest_checkpoint,
                   get_level,
                   get_package_placeholder,
                   get_placeholder,
                   print_log,
                   setup_multi_processes,
)
from .setup_env import register_all_modules
from .typing import (
                   DumpChosen,
                   FixMutable,
                   MultiMutatorsRandomSubnet,
                   SingleMutatorRandomSubnet,
                   SupportRandomSubnet,
                   ValidFixMutable,
)

__all__ = [
    'register_all_modules', 'DumpChosen', 'FixMutable', 'ValidFixMutable',
    'SingleMutatorRandomSubnet', 'MultiMutatorsRandomSubnet',
    'SupportRandomSubnet', 'find_latest_checkpoint', 'setup_multi_processes',
    'get_placeholder', 'get_package_placeholder', 'IndexDict', 'get_level',
    'print_log', 'RuntimeInfo'
]
