# Copyright (c) OpenMMLab. All rights reserved.
"""Subnet files and their application to supernets."""
from .candidates import Candidates
from .fix_subnet import (
                         choices_to_subnet,
    convert_fix_subnet,
                         export_fix_subnet,
                         is_mutable,
                         load_fix_subnet,
                         load_subnet_dict,
                         save_subnet_file,
                         subnet_to_choices,
)

__all__ = [
    'Candidates', 'choices_to_subnet', 'convert_fix_subnet',
    'export_fix_subnet', 'is_mutable', 'load_fix_subnet',
    'load_subnet_dict', 'save_subnet_file', 'subnet_to_choices'
]
