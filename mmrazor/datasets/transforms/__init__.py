# Copyright (c) OpenMMLab. All rights reserved.
"""Data transforms of mmrazor's algorithms."""
from .formatting import PackCRDClsInputs

__all__ = ['PackCRDClsInputs']
