# Copyright (c) OpenMMLab. All rights reserved.
"""Task modules: helpers built from ``TASK_UTILS``, such as estimators."""
from .delivery import *  # noqa: F401,F403
from .demo_inputs import *  # noqa: F401,F403
from .estimators import *  # noqa: F401,F403
from .predictor import *  # noqa: F401,F403
from .recorder import *  # noqa: F401,F403
from .tracer import *  # noqa: F401,F403
