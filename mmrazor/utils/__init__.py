# Copyright (c) OpenMMLab. All rights reserved.
"""Utilities: environment set-up, dependency checks and shared types."""
from .setup_env import register_all_modules
from .typing import DumpChosen

__all__ = ['register_all_modules', 'DumpChosen']
