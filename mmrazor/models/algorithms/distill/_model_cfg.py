# Copyright (c) OpenMMLab. All rights reserved.
"""Resolve ``dict(cfg_path=..., pretrained=...)`` model references."""
from typing import Any, Dict, Optional, Tuple

from mmengine.config import Config
from mmengine.hub import get_config


def resolve_model_cfg(cfg: Any, field: str,
                      owner: str) -> Tuple[Any, Optional[str]]:
    """Turn a ``cfg_path`` reference into the model config it names.

    ``dict(cfg_path='mmcls::resnet/resnet18_8xb32_in1k.py', pretrained=b)``
    (the original MMRazor's form) becomes that file's ``model`` config,
    built in the package's scope (``mmcls``), with the file's top-level
    ``data_preprocessor`` as mmengine's ``Runner`` would add it. A plain
    path (no ``package::``) is read with ``Config.fromfile``. Any other
    value (a config with ``type``, a built model) is returned as is.

    ``pretrained=True`` asks for the weights the package's metafile lists
    for that config: their URL is returned, to be loaded by the caller.
    Offline, it cannot be downloaded: pass a local checkpoint instead
    (``teacher_ckpt`` for a teacher). A str ``pretrained`` is taken as the
    checkpoint path itself.

    Args:
        cfg (Any): The argument as given.
        field (str): Its name, for messages.
        owner (str): The class receiving it, for messages.

    Returns:
        tuple: The model config (or ``cfg`` itself) and the checkpoint to
        load (None for none).
    """
    if not isinstance(cfg, dict) or 'cfg_path' not in cfg:
        return cfg, None
    extra = sorted(set(cfg) - {'cfg_path', 'pretrained'})
    if extra:
        raise ValueError(
            f'{owner}: `{field}` with `cfg_path` accepts only `cfg_path` and '
            f'`pretrained`, but also got {extra}; put overrides in a config '
            f'file that inherits from it.')
    path, pretrained = cfg['cfg_path'], cfg.get('pretrained', False)
    if not isinstance(pretrained, (bool, str)):
        raise TypeError(f'{owner}: `{field}.pretrained` must be a bool or a '
                        f'checkpoint path, got {pretrained!r}.')
    if '::' in path:
        package = path.split('::')[0]
        loaded = get_config(path, pretrained=pretrained is True)
        scope = package
    else:
        loaded = Config.fromfile(path)
        scope = loaded.get('default_scope')
    if 'model' not in loaded:
        raise ValueError(f'{owner}: `{field}.cfg_path`={path!r} has no '
                         f'`model` to build.')
    model: Dict = loaded.model.to_dict()
    if 'data_preprocessor' in loaded:
        model.setdefault('data_preprocessor',
                         loaded.data_preprocessor.to_dict())
    if scope is not None:
        model.setdefault('_scope_', scope)
    checkpoint = None
    if pretrained is True:
        checkpoint = loaded.get('model_path')
        if checkpoint is None:
            raise ValueError(
                f'{owner}: `{field}.pretrained=True`, but the metafile of '
                f'{path!r} lists no weights; pass a checkpoint path instead.')
    elif isinstance(pretrained, str):
        checkpoint = pretrained
    return model, checkpoint
