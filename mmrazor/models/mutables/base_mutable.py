# Copyright (c) OpenMMLab. All rights reserved.
"""The contract every mutable honours."""
import random
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional

from mmengine.model import BaseModule

from mmrazor.utils import DumpChosen


class BaseMutable(BaseModule, ABC):
    """Base class of everything that can change in a supernet.

    A mutable holds a list of ``choices`` and a ``current_choice``. A search
    algorithm (through a mutator) sets ``current_choice`` many times; once a
    subnet is chosen, ``fix_chosen`` freezes the mutable for good
    (``is_fixed`` is one-way) and ``dump_chosen`` gives what a subnet file
    stores for it.

    Subclasses implement ``current_choice`` (getter and setter), ``choices``,
    ``fix_chosen`` and ``dump_chosen``.

    Args:
        alias (str, optional): A name shared by mutables that must always take
            the same choice; a mutator puts them in one search group.
            Defaults to None.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if alias is not None and not isinstance(alias, str):
            raise TypeError(f'{type(self).__name__}: `alias` must be a str '
                            f'or None, but got {alias!r}')
        self.alias = alias
        self._is_fixed = False

    @property
    @abstractmethod
    def current_choice(self) -> Any:
        """The choice the mutable currently takes."""

    @current_choice.setter
    @abstractmethod
    def current_choice(self, choice: Any) -> None:
        """Set the choice the mutable takes."""

    @property
    @abstractmethod
    def choices(self) -> List[Any]:
        """All the choices the mutable can take."""

    @abstractmethod
    def fix_chosen(self, chosen: Any) -> None:
        """Fix the mutable to ``chosen`` for good and set ``is_fixed``."""

    @abstractmethod
    def dump_chosen(self) -> DumpChosen:
        """Return the current choice as a subnet file stores it."""

    @property
    def num_choices(self) -> int:
        """Number of choices."""
        return len(self.choices)

    def sample_choice(self) -> Any:
        """Return one of ``choices`` drawn uniformly at random."""
        return random.choice(self.choices)

    @property
    def is_fixed(self) -> bool:
        """Whether the mutable has been fixed to one choice."""
        return self._is_fixed

    @is_fixed.setter
    def is_fixed(self, is_fixed: bool) -> None:
        if not isinstance(is_fixed, bool):
            raise TypeError(f'`is_fixed` must be a bool, but got {is_fixed!r}')
        if self._is_fixed and not is_fixed:
            raise AttributeError(
                f'{self._describe()} is fixed; a fixed mutable cannot be '
                'made searchable again. Build the supernet anew instead.')
        self._is_fixed = is_fixed

    def check_choice(self, choice: Any) -> None:
        """Raise a ValueError if ``choice`` is not one of ``choices``.

        Args:
            choice: The choice to check.
        """
        # ``True in [1, 2]`` holds in Python: a bool is a choice only
        # among bool choices (``chosen: true`` in a yaml file of ints).
        if choice not in self.choices or (isinstance(choice, bool) and not any(
                isinstance(c, bool) and c is choice for c in self.choices)):
            raise ValueError(
                f'{self._describe()} got choice {choice!r}, which is not one '
                f'of its choices: {self.choices}')

    def _describe(self) -> str:
        """A short description for error messages."""
        alias = f' (alias {self.alias!r})' if self.alias else ''
        return f'{type(self).__name__}{alias}'

    def extra_repr(self) -> str:
        fixed = ', fixed' if self.is_fixed else ''
        return (f'alias={self.alias!r}, choices={self.choices}, '
                f'current_choice={self.current_choice!r}{fixed}')
