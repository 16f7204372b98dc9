# Copyright (c) OpenMMLab. All rights reserved.
"""Utilities: environment set-up, dependency checks and shared types."""
from .setup_env import register_all_modules
from .typing import (
                     DumpChosen,
                     FixMutable,
                     SingleMutatorRandomSubnet,
                     SupportRandomSubnet,
                     ValidFixMutable,
)

__all__ = [
    'register_all_modules', 'DumpChosen', 'FixMutable',
    'SingleMutatorRandomSubnet', 'SupportRandomSubnet', 'ValidFixMutable'
]
