# Copyright (c) OpenMMLab. All rights reserved.
"""Architectures: searchable backbones and candidate ops."""
from .backbones import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .connectors import *  # noqa: F401,F403
from .dynamic_ops import *  # noqa: F401,F403
from .generators import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .ops import *  # noqa: F401,F403
