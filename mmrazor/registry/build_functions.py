# Copyright (c) OpenMMLab. All rights reserved.
"""Helpers to build mmrazor components from configs."""
from typing import Any, Dict


def in_mmrazor_scope(cfg: Dict[str, Any]) -> Dict[str, Any]:
    """Return a copy of ``cfg`` built in the ``mmrazor`` scope.

    mmengine builds a config in the current default scope: inside an mmcls
    config that is 'mmcls', where mmrazor's names are unknown. Nested
    components that mmrazor builds itself (mutables, candidate ops,
    mutators) therefore get ``_scope_='mmrazor'``, unless the config names
    a scope of its own. Types written as ``'mmcls.X'`` still resolve.

    Args:
        cfg (dict): A config with a ``type``.

    Returns:
        dict: The config with ``_scope_`` set.
    """
    return {'_scope_': 'mmrazor', **cfg}
