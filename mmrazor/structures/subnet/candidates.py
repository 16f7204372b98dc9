# Copyright (c) OpenMMLab. All rights reserved.
"""``Candidates``: subnets with their score and resources, in a list.

MMRazor 1.0's search loops kept their population in this structure and
users' scripts read it. Each item is ``{key: {'score', 'flops', 'params',
'latency'}}`` where ``key`` is the subnet as text. Keys written here are
JSON with sorted keys; keys in the original's form (a Python ``repr`` of
the dict) are read too, with ``ast.literal_eval`` (literals only), never
``eval``.
"""
import ast
import json
from collections import UserList
from typing import Any, Dict, Iterable, List, Optional

INDICATORS = ('score', 'flops', 'params', 'latency')
RESOURCES = ('flops', 'params', 'latency')

Item = Dict[str, Dict[str, float]]


def _subnet_of(key: str) -> Dict[str, Any]:
    """The subnet a key holds (JSON, or the original's Python repr)."""
    try:
        subnet = json.loads(key)
    except ValueError:
        try:
            subnet = ast.literal_eval(key)
        except (ValueError, SyntaxError) as e:
            raise ValueError(
                f'Candidates: key {key[:80]!r} is not a subnet dict written '
                'as JSON or as a Python literal') from e
    if not isinstance(subnet, dict):
        raise ValueError(f'Candidates: key {key[:80]!r} is not a dict')
    return subnet


def _check_indicator(name: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if name not in allowed:
        raise KeyError(f'Candidates: unknown indicator {name!r}; use one of '
                       f'{list(allowed)}')


class Candidates(UserList):
    """Subnets with their score and resources.

    Accepts, in the constructor, ``append``, ``insert`` and ``extend``: a
    subnet dict (its indicators start at -1, "not estimated"), a list of
    them, an item ``{key: {indicator: value}}`` (missing indicators 0) or a
    list of items.

    Examples:
        >>> candidates = Candidates({'a': 'x', 'b': 'y'})
        >>> candidates.set_resource(0, 49.9, 'flops')
        >>> candidates.set_score(0, 100.0)
        >>> candidates.scores, candidates.resources('flops')
        ([100.0], [49.9])
        >>> candidates.subnets
        [{'a': 'x', 'b': 'y'}]
    """

    def __init__(self, initdata: Optional[Any] = None) -> None:
        super().__init__()
        if initdata is not None:
            self.extend(initdata)

    @staticmethod
    def _item(entry: Dict) -> Item:
        if not isinstance(entry, dict) or not entry:
            raise TypeError('Candidates: an entry must be a non-empty subnet '
                            f'dict or {{key: resources}}, got {entry!r}')
        values = list(entry.values())
        if all(isinstance(v, dict) for v in values):
            item = {}
            for key, value in entry.items():
                _subnet_of(key)
                item[key] = {**dict.fromkeys(INDICATORS, 0.), **value}
            return item
        key = json.dumps(entry, sort_keys=True)
        return {key: dict.fromkeys(INDICATORS, -1.)}

    def _items(self, data: Any) -> List[Item]:
        if isinstance(data, UserList):
            data = data.data
        if isinstance(data, (list, tuple)):
            return [self._item(entry) for entry in data]
        return [self._item(data)]

    def append(self, item: Any) -> None:
        """Append one entry (or each entry of a list)."""
        self.data.extend(self._items(item))

    def insert(self, i: int, item: Any) -> None:
        """Insert one entry at ``i``."""
        if not isinstance(item, dict):
            raise TypeError('Candidates.insert takes one entry (a dict), '
                            f'got {type(item).__name__}')
        self.data.insert(i, self._item(item))

    def extend(self, other: Any) -> None:
        """Append every entry of ``other``."""
        self.data.extend(self._items(other))

    @property
    def scores(self) -> List[float]:
        """The score of each candidate, rounded to 2 decimals."""
        return [round(v.get('score', 0.), 2) for item in self.data
                for v in item.values()]

    def resources(self, key_indicator: str = 'flops') -> List[float]:
        """One resource (``flops``, ``params`` or ``latency``) of each."""
        _check_indicator(key_indicator, RESOURCES)
        return [v.get(key_indicator, 0.) for item in self.data
                for v in item.values()]

    @property
    def subnets(self) -> List[Dict[str, Any]]:
        """The subnet dict of each candidate."""
        return [_subnet_of(key) for item in self.data for key in item]

    def set_score(self, i: int, score: float) -> None:
        """Set the score of candidate ``i``."""
        self.set_resource(i, score, 'score')

    def set_resource(self, i: int, resources: float,
                     key_indicator: str = 'flops') -> None:
        """Set one indicator of candidate ``i``."""
        _check_indicator(key_indicator, INDICATORS)
        for value in self.data[i].values():
            value[key_indicator] = resources

    def update_resources(self, resources: List[Dict[str, float]],
                         start: int = 0) -> None:
        """Update candidates ``start, start + 1, ...`` with the dicts of
        ``resources``."""
        if start + len(resources) > len(self.data):
            raise IndexError(
                f'Candidates.update_resources: {len(resources)} results from '
                f'index {start} do not fit {len(self.data)} candidates')
        for item, result in zip(self.data[start:], resources):
            for value in item.values():
                value.update(result)

    def sort_by(self, key_indicator: str = 'score',
                reverse: bool = True) -> None:
        """Sort in place by one indicator, largest first by default."""
        _check_indicator(key_indicator, INDICATORS)
        self.data.sort(key=lambda item: list(item.values())[0][key_indicator],
                       reverse=reverse)

