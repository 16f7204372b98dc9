# Copyright (c) OpenMMLab. All rights reserved.
"""Task modules: helpers built from ``TASK_UTILS``, such as estimators."""
from .estimators import *  # noqa: F401,F403
