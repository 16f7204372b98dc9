# Copyright (c) OpenMMLab. All rights reserved.
"""Argument checks shared by every component.

Each check raises ``ValueError`` with one message form: the class (or other
owner) that was being built, the field, what the field accepts and the value
received, e.g. ``"CRDLoss: `neg_num` must be an int >= 1, but got 0"``. A
wrong config then fails when the component is built, naming what to fix.
The checks return the value, so that ``self.x = check_int(self, 'x', x)``
reads as one step. Booleans are refused where a number is expected
(``True`` is an ``int`` in Python, never a sensible channel count).

:func:`close_matches` and :func:`did_you_mean` turn an unknown name into a
short suggestion instead of a list of every known name.

Examples:
    >>> check_int('EvolutionSearchLoop', 'top_k', 3, low=1, high=10)
    3
    >>> check_choice('KLDivergence', 'reduction', 'avg', ('sum', 'mean'))
    Traceback (most recent call last):
    ...
    ValueError: KLDivergence: `reduction` must be one of ['sum', 'mean'], but got 'avg'
    >>> did_you_mean('MBBlok', ['MBBlock', 'ShuffleXception'])
    " Did you mean 'MBBlock'?"
"""  # noqa: E501
import difflib
import math
from typing import Any, Iterable, List, Optional, TypeVar

T = TypeVar('T')


def owner_name(owner: Any) -> str:
    """``owner`` itself if it is a string, else the name of its class."""
    return owner if isinstance(owner, str) else type(owner).__name__


def _refuse(owner: Any, field: str, accepted: str, value: Any) -> ValueError:
    return ValueError(f'{owner_name(owner)}: `{field}` must be {accepted}, '
                      f'but got {value!r}')


def check_choice(owner: Any, field: str, value: T,
                 allowed: Iterable[Any]) -> T:
    """Return ``value`` if it is one of ``allowed``, else raise.

    Args:
        owner (str | object): Who checks (a name, or the object being built:
            its class names the error).
        field (str): The argument name.
        value (Any): The value received.
        allowed (Iterable): The accepted values (a dict: its keys).

    Returns:
        Any: ``value``.
    """
    allowed = list(allowed)
    if value not in allowed:
        raise _refuse(owner, field, f'one of {allowed}', value)
    return value


def check_int(owner: Any,
              field: str,
              value: Any,
              low: Optional[int] = None,
              high: Optional[int] = None) -> int:
    """Return ``value`` if it is an int in ``[low, high]``, else raise.

    Args:
        owner (str | object): Who checks (see :func:`check_choice`).
        field (str): The argument name.
        value (Any): The value received.
        low (int, optional): The smallest accepted value. Defaults to None
            (no bound).
        high (int, optional): The largest accepted value. Defaults to None
            (no bound).

    Returns:
        int: ``value``.
    """
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if not is_int or (low is not None and value < low) or \
            (high is not None and value > high):
        raise _refuse(owner, field, 'an int' + _range_text(low, high, False,
                                                           False), value)
    return value


def check_positive_int(owner: Any, field: str, value: Any) -> int:
    """:func:`check_int` with ``low=1`` (a count, a channel number)."""
    return check_int(owner, field, value, low=1)


def check_number(owner: Any,
                 field: str,
                 value: Any,
                 low: Optional[float] = None,
                 high: Optional[float] = None,
                 low_open: bool = False,
                 high_open: bool = False) -> float:
    """Return ``value`` if it is a finite real number in range, else raise.

    Args:
        owner (str | object): Who checks (see :func:`check_choice`).
        field (str): The argument name.
        value (Any): The value received.
        low (float, optional): Lower bound. Defaults to None (none).
        high (float, optional): Upper bound. Defaults to None (none).
        low_open (bool): Whether ``low`` itself is refused. Defaults to
            False.
        high_open (bool): Whether ``high`` itself is refused. Defaults to
            False.

    Returns:
        float: ``value``.
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        kind = 'a number' if low is not None or high is not None else \
            'a finite number'
        raise _refuse(owner, field,
                      kind + _range_text(low, high, low_open, high_open),
                      value)
    return value


def check_positive(owner: Any, field: str, value: Any) -> float:
    """:func:`check_number` refusing numbers <= 0."""
    return check_number(owner, field, value, low=0, low_open=True)


def check_non_negative(owner: Any, field: str, value: Any) -> float:
    """:func:`check_number` refusing negative numbers."""
    return check_number(owner, field, value, low=0)


def _range_text(low: Optional[float], high: Optional[float], low_open: bool,
                high_open: bool) -> str:
    if low is not None and high is not None:
        return (f' in {"(" if low_open else "["}{low}, '
                f'{high}{")" if high_open else "]"}')
    if low is not None:
        return f' {">" if low_open else ">="} {low}'
    if high is not None:
        return f' {"<" if high_open else "<="} {high}'
    return ''


def close_matches(name: str,
                  candidates: Iterable[str],
                  n: int = 5,
                  cutoff: float = 0.6) -> List[str]:
    """Up to ``n`` of ``candidates`` that look like ``name``, closest first.

    Case is ignored when comparing (``'mobilenetv2'`` finds
    ``'MobileNetV2'``); ``cutoff`` is difflib's similarity threshold.
    """
    candidates = [str(c) for c in candidates]
    by_lower = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    found = difflib.get_close_matches(
        str(name).lower(), list(by_lower), n=n, cutoff=cutoff)
    return [by_lower[f] for f in found]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``" Did you mean 'X'?"`` for the closest candidates, or ``''``."""
    found = close_matches(name, candidates, n=3)
    if not found:
        return ''
    return ' Did you mean ' + ' or '.join(repr(f) for f in found) + '?'
