"""Fast deep copy for JSON-shaped data (dict / list / scalars). No I/O.

``copy.deepcopy`` handles every Python type and pays for it (memo dict, dispatch);
Kubernetes objects are plain JSON, which this copies about eight times faster.
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["deep_copy"]

T = TypeVar("T")

#: Exact types shared rather than copied (immutable); checked by identity, the hot case.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def deep_copy(value: T) -> T:
    """A deep copy of a JSON-shaped value; scalars are shared (they are immutable).

    Dicts and lists (subclasses too) become plain dicts and lists; any other value is
    shared, as it is not JSON.
    """
    return _copy(value)  # type: ignore[no-any-return]


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: (v if type(v) in _SCALARS else _copy(v)) for k, v in value.items()}
    if kind is list:
        return [(v if type(v) in _SCALARS else _copy(v)) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
