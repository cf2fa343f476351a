"""Fast deep copy for JSON-shaped data (dict / list / scalars). No I/O.

``copy.deepcopy`` handles every Python type and pays for it (memo dict, dispatch);
Kubernetes objects are plain JSON, which this copies about five times faster.
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["deep_copy"]

T = TypeVar("T")


def deep_copy(value: T) -> T:
    """A deep copy of a JSON-shaped value; scalars are shared (they are immutable)."""
    return _copy(value)  # type: ignore[no-any-return]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (_copy(v) if isinstance(v, (dict, list)) else v) for k, v in value.items()}
    if isinstance(value, list):
        return [(_copy(v) if isinstance(v, (dict, list)) else v) for v in value]
    return value
