"""Which live widgets each notebook cell made, so that re-running the cell closes them.

In a kernel, the frontend names the cell it runs (``cellId`` in the execute
request's metadata; IPython hands it to ``pre_run_cell`` hooks as
``info.cell_id``). :func:`track` files a widget under the running cell; when that
cell runs again, the ``pre_run_cell`` hook closes what its previous run made, so
the old widget's watches and thread work are released before new ones start.
Where no cell id is known (an old frontend, a plain IPython terminal), a new widget
of the same kind and target replaces the previous one instead. Outside IPython
nothing is tracked: whoever made the widget closes it.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

__all__ = ["close_all", "current_cell_id", "forget", "install", "track", "tracked"]


class _Closable(Protocol):
    def close(self) -> None: ...


_lock = threading.Lock()
_by_cell: dict[str, list[_Closable]] = {}
_by_target: dict[tuple[str, str], _Closable] = {}
_hooked: set[int] = set()
_running_cell: dict[str, str | None] = {"id": None}


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None
    return get_ipython()


def current_cell_id(shell: Any = None) -> str | None:
    """The id of the notebook cell running now, if the frontend said."""
    if _running_cell["id"]:
        return _running_cell["id"]
    shell = shell if shell is not None else _shell()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return None
    try:
        parent = kernel.get_parent("shell")
    except Exception:
        return None
    metadata = (parent or {}).get("metadata") or {}
    cell = metadata.get("cellId")
    return str(cell) if cell else None


def _pre_run_cell(info: Any = None) -> None:
    cell = getattr(info, "cell_id", None) or current_cell_id()
    _running_cell["id"] = cell
    if not cell:
        return
    with _lock:
        previous = _by_cell.pop(cell, [])
    for widget in previous:
        widget.close()


def _post_run_cell(result: Any = None) -> None:
    _running_cell["id"] = None


def install(shell: Any) -> None:
    """Hook ``shell``'s cell runs (idempotent)."""
    if shell is None or id(shell) in _hooked:
        return
    events = getattr(shell, "events", None)
    if events is None:
        return
    events.register("pre_run_cell", _pre_run_cell)
    events.register("post_run_cell", _post_run_cell)
    _hooked.add(id(shell))


def track(widget: _Closable, kind: str, target: str) -> None:
    """Remember that the running cell made ``widget`` (see the module docstring)."""
    shell = _shell()
    if shell is None:
        return
    install(shell)
    cell = current_cell_id(shell)
    previous: _Closable | None = None
    with _lock:
        if cell:
            _by_cell.setdefault(cell, []).append(widget)
        else:
            previous = _by_target.get((kind, target))
            _by_target[(kind, target)] = widget
    if previous is not None and previous is not widget:
        previous.close()


def forget(widget: _Closable) -> None:
    """``widget`` closed by itself: drop it."""
    with _lock:
        for cell, widgets in list(_by_cell.items()):
            if widget in widgets:
                widgets.remove(widget)
                if not widgets:
                    del _by_cell[cell]
        for key, value in list(_by_target.items()):
            if value is widget:
                del _by_target[key]


def tracked() -> list[_Closable]:
    with _lock:
        return [w for ws in _by_cell.values() for w in ws] + list(_by_target.values())


def close_all() -> None:
    """Close every tracked widget (``%unload_ext``, tests)."""
    for widget in tracked():
        widget.close()
