# Copyright (c) OpenMMLab. All rights reserved.
"""The private parts of mmengine that mmrazor relies on, in one place.

mmengine keeps some state only in private attributes (what ``Runner`` was
given before it builds it, whether it resumes) and some helpers only as
private functions. mmrazor reads them here and nowhere else, so that an
mmengine release that renames one breaks one module, with a message, and
``tests/test_utils/test_mmengine_compat.py`` pins each on the installed
mmengine (0.10.x).

What is read, and why the public API does not serve:

- ``Runner._train_dataloader``: the train dataloader as given (a config
  dict until built). ``Runner.train_dataloader`` goes through
  ``runner.train_loop``, which a search loop (itself the train loop) cannot
  use while it is being built.
- ``Runner._load_from`` and ``Runner._resume``: the ``load_from`` /
  ``resume`` settings, kept by the runner only privately.
- ``Runner._randomness_cfg``: the ``randomness`` setting (``diff_rank_seed``
  for dataloaders the loops build themselves).
- ``mmengine.runner.loops._parse_losses``: averages of validation losses and
  their sum, as mmengine's ``ValLoop`` logs them.
- ``BaseModule._is_init``: whether ``init_weights`` has run; set to keep
  loaded weights from being re-initialised.
- ``Config._cfg_dict``: the ``ConfigDict`` behind a ``Config``, to edit
  nested options in place.
"""
from typing import Any, Dict, Optional, Union

import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.runner import loops as _loops
from torch.utils.data import DataLoader

_MISSING = object()


def _private(owner: Any, name: str) -> Any:
    """``owner.<name>``, or an error naming the mmengine change."""
    value = getattr(owner, name, _MISSING)
    if value is _MISSING:
        import mmengine
        raise AttributeError(
            f'mmrazor reads {_name(owner)}.{name} of mmengine, which '
            f'mmengine {mmengine.__version__} does not have; use the '
            'mmengine version mmrazor supports (see '
            'mmrazor.utils._mmengine_compat).')
    return value


def _name(owner: Any) -> str:
    return getattr(owner, '__name__', type(owner).__name__)


def train_dataloader_of(runner: Any) -> Union[DataLoader, Dict, None]:
    """The runner's train dataloader as given: a config dict until it is
    built, then the ``DataLoader``; None if the runner has none."""
    return _private(runner, '_train_dataloader')


def load_from_of(runner: Any) -> Optional[str]:
    """The runner's ``load_from`` checkpoint path, or None."""
    return _private(runner, '_load_from')


def resumes(runner: Any) -> bool:
    """Whether the runner was asked to resume (``resume=True``)."""
    return bool(_private(runner, '_resume'))


def randomness_cfg_of(runner: Any) -> Dict[str, Any]:
    """The runner's ``randomness`` config (``seed``, ``diff_rank_seed``...)."""
    return dict(_private(runner, '_randomness_cfg'))


def parse_val_losses(losses: Dict[str, Any], stage: str) -> Dict[str, float]:
    """mmengine's averages of validation losses.

    Args:
        losses (dict): ``{name: HistoryBuffer}`` of the losses a loop
            collected.
        stage (str): ``'val'`` or ``'test'``.

    Returns:
        dict: ``{name: mean}`` and ``{stage}_loss``, the sum of the means
        whose name contains ``'loss'``.
    """
    return _private(_loops, '_parse_losses')(losses, stage)


def mark_initialized(module: nn.Module) -> None:
    """Make mmengine's ``init_weights`` leave ``module``'s weights alone."""
    module._is_init = True


def config_dict(cfg: Union[Config, ConfigDict, Dict]) -> Union[ConfigDict,
                                                              Dict]:
    """The mutable dict behind a ``Config`` (``cfg`` itself for a dict)."""
    if isinstance(cfg, Config):
        return _private(cfg, '_cfg_dict')
    return cfg
