# Copyright (c) OpenMMLab. All rights reserved.
"""Distillers: compute distillation losses from recorded features."""
from .configurable_distiller import ConfigurableDistiller

# The original MMRazor's distiller names: one configurable distiller does
# what its BYOT and OFD distillers did (registered under those names too),
# and is the base a custom distiller extends.
BaseDistiller = BYOTDistiller = OFDDistiller = ConfigurableDistiller

__all__ = [
    'ConfigurableDistiller', 'BaseDistiller', 'BYOTDistiller', 'OFDDistiller'
]
