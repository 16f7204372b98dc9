# Copyright (c) OpenMMLab. All rights reserved.
"""A sequence of blocks of elastic depth."""
from typing import Any, Tuple

import torch.nn as nn

from mmrazor.registry import MODELS

from ._mixin import DynamicOpMixin


@MODELS.register_module()
class DynamicSequential(nn.Sequential, DynamicOpMixin):
    """A ``nn.Sequential`` that runs only its first ``depth`` modules.

    Mutable attribute: ``depth`` (a value mutable whose choices are between
    1 and the number of modules).
    """

    accepted_mutable_attrs: Tuple[str, ...] = ('depth', )

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self._init_mutable_attrs()

    def _check_mutable_attr(self, attr: str, mutable: Any) -> None:
        blocks = len(self._blocks())
        for depth in mutable.choices:
            if not isinstance(depth, int) or not 0 < depth <= blocks:
                raise ValueError(
                    f'DynamicSequential: depth choices must be ints in '
                    f'[1, {blocks}], got {mutable.choices}')

    def _blocks(self) -> list:
        return [m for name, m in self._modules.items()
                if name != 'mutable_attrs']

    @property
    def active_depth(self) -> int:
        """Number of modules the forward runs."""
        mutable = self.mutable_attrs._modules.get('depth')
        return len(self._blocks()) if mutable is None else \
            mutable.current_choice

    def __iter__(self):
        return iter(self._blocks())

    def __len__(self) -> int:
        return len(self._blocks())

    def __getitem__(self, idx):
        blocks = self._blocks()
        if isinstance(idx, slice):
            return nn.Sequential(*blocks[idx])
        return blocks[idx]

    def forward(self, x: Any) -> Any:
        remaining = self.active_depth
        for name, block in self._modules.items():
            if remaining == 0:
                break
            if name != 'mutable_attrs':
                x = block(x)
                remaining -= 1
        return x

    @classmethod
    def convert_from(cls, module: nn.Sequential) -> 'DynamicSequential':
        """Build from a ``nn.Sequential`` holding the same modules."""
        new = cls()
        for name, child in module.named_children():
            new.add_module(name, child)
        # keep ``mutable_attrs`` after the blocks so block keys come first
        # (``_modules`` is a plain dict in torch >= 2.x: re-insert it)
        new._modules['mutable_attrs'] = new._modules.pop('mutable_attrs')
        return new

    def to_static_op(self) -> nn.Sequential:
        """A ``nn.Sequential`` of the first ``active_depth`` modules, keeping
        their names (so a supernet ``state_dict`` loads non-strictly)."""
        names = [n for n in self._modules if n != 'mutable_attrs']
        static = nn.Sequential()
        for name in names[:self.active_depth]:
            static.add_module(name, self._modules[name])
        return static
