"""Cyclic-GC settings for bulk work that builds a large, long-lived heap. No I/O.

CPython's cyclic collector runs a *full* collection whenever the objects that survived
into the oldest generation grew by a quarter since the last one, and a full collection
walks every tracked container in the process. Creating 100,000 pods keeps millions of
dicts and lists alive (the store, the scheduler's and kubelets' caches), so the full
collections during such a burst cost a quarter of the CPU (12 s of 52 s at 100,000 pods
on the benchmark machine) while finding almost nothing to free: Kubernetes objects are
trees, freed by reference counting alone.

:func:`bulk_gc` trades a little memory for that time while a bulk operation runs:

* objects alive when it starts are frozen (``gc.freeze()``): collections during the
  operation do not walk them;
* the survivors of each full collection during the operation are frozen too, so the
  next one walks only what is new since (the total stays linear in what the operation
  builds instead of walking the whole heap over and over);
* the youngest generation's threshold goes from 700 to ``threshold0`` allocations, so
  young collections are rarer (each walks at most that many young objects: tens of ms).

On exit the thresholds are restored and everything frozen is unfrozen (moved to the
oldest generation, where the next full collection sees it again), so cyclic garbage made
or left during the operation is collected afterwards, not leaked.

Trade-offs, to weigh before using it: GC settings are process-wide, so the user's own
code in the same interpreter (a notebook kernel) runs with them too while the operation
lasts; cyclic garbage lives longer (up to ``threshold0`` young objects, and garbage that
was already frozen until the operation ends); the first full collection after the
operation walks the whole heap once (2-3 s of pause at 100,000 pods). Nothing changes unless a caller asks for it: the
library never tunes the GC behind a user's back.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["BULK_THRESHOLD0", "bulk_gc"]

#: Young-generation threshold while a bulk operation runs (CPython's default is 700).
BULK_THRESHOLD0 = 100_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None
_freezing = False


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    """A gc callback: once a full collection is done, freeze what survived it."""
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


@contextmanager
def bulk_gc(threshold0: int = BULK_THRESHOLD0) -> Iterator[None]:
    """Fewer and cheaper cyclic-GC passes while the body runs (see the module docstring).

    Re-entrant and thread-safe: nested or concurrent uses share one setting, restored
    when the last one ends. With the GC disabled it changes nothing; when the process
    froze objects itself already (``gc.get_freeze_count()``), only the threshold changes,
    so its frozen objects stay frozen.
    """
    global _depth, _saved, _freezing
    with _lock:
        _depth += 1
        if _depth == 1:
            if gc.isenabled():
                _saved = gc.get_threshold()
                _freezing = gc.get_freeze_count() == 0
                if _freezing:
                    gc.freeze()
                    gc.callbacks.append(_freeze_survivors)
                gc.set_threshold(max(threshold0, _saved[0]), _saved[1], _saved[2])
            else:
                _saved = None
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                if _freezing:
                    if _freeze_survivors in gc.callbacks:
                        gc.callbacks.remove(_freeze_survivors)
                    gc.unfreeze()
                _saved = None
                _freezing = False
