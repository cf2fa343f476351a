"""The base of every live widget: a VBox the shared hub thread keeps current.

A :class:`LiveWidget` subscribes to resources through the :mod:`hub
<nbcluster.ui.widgets._hub>` (never a watch of its own), marks itself dirty when
changes arrive, and redraws on the hub thread when due: at most every
``live_interval`` seconds (0.25: four redraws a second), and every ``live_tick``
seconds anyway so that ages keep counting. Traits are set only from the hub thread
(or while the widget is being built), and ipykernel sends comm messages from any
thread through its IOPub thread, so a redraw reaches the browser while the kernel is
idle and while a cell runs.

:meth:`LiveWidget.close` (and re-running the cell that made it, and the cluster
stopping) releases its subscriptions; the hub's thread ends with the last widget.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from nbcluster.api.resources import ResourceInfo
from nbcluster.ui.widgets import _registry
from nbcluster.ui.widgets._html import STYLE, escape
from nbcluster.ui.widgets._hub import Changes, Hub, hub

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = ["LiveWidget"]

Obj = dict[str, Any]


class LiveWidget(widgets.VBox):
    """A VBox kept current by the hub. Subclasses implement ``_live_draw`` (and ``_live_poll``)."""

    #: Shortest time between two redraws (seconds): at most four a second.
    live_interval = 0.25
    #: Redraw this often even without changes (ages tick); None: only on changes.
    live_tick: float | None = 1.0

    def __init__(self, cluster: Cluster, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cluster = cluster
        self._live_lock = threading.RLock()
        self._live_hub: Hub = hub()
        self._live_dirty = True
        self._live_last = 0.0
        self._live_cost = 0.0
        self._live_released = False
        self._live_closed = False
        #: Why the widget stopped following the cluster ("" while live).
        self.stopped_reason = ""
        #: How many times the widget redrew (for tests and the benchmark).
        self.redraws = 0
        self.add_class("nbcluster-widget")

    # -- wiring -------------------------------------------------------------------

    def _live_cluster(self) -> Cluster:
        return self.cluster

    def _live_watch(
        self,
        resource: str | ResourceInfo,
        callback: Callable[[Changes], None],
        *,
        namespace: str | None = None,
        labels: str | dict | None = None,
        fields: str | None = None,
    ) -> None:
        self._live_hub.subscribe(self, resource, callback, namespace=namespace, labels=labels, fields=fields)

    def _live_start(self) -> None:
        """Draw once now, then let the hub serve this widget."""
        self._live_redraw(time.monotonic())
        self._live_hub.add(self)

    def _live_changed(self) -> None:
        self._live_dirty = True

    @property
    def live(self) -> bool:
        """True while the widget follows the cluster."""
        return not self._live_released

    # -- the hub calls these (on its thread) --------------------------------------------

    def _live_due(self, now: float) -> float | None:
        """How long a redraw is overdue (seconds, >= 0), or None when none is due."""
        if self._live_released:
            return None
        since = now - self._live_last
        if self._live_dirty:
            wait = max(self.live_interval, 4 * self._live_cost)
            if since >= wait:
                return since - wait
        if self.live_tick is not None:
            wait = max(self.live_tick, 10 * self._live_cost)
            if since >= wait:
                return since - wait
        return None

    def _live_redraw(self, now: float) -> None:
        self._live_dirty = False
        started = time.perf_counter()
        with self.hold_sync():
            self._live_draw()
        self._live_cost = time.perf_counter() - started
        self._live_last = now
        self.redraws += 1

    def _live_poll(self, now: float) -> None:
        """Periodic work besides redraws (debounced writes, log fetches), every tick."""

    def _live_draw(self) -> None:
        raise NotImplementedError

    def _live_release(self, reason: str) -> None:
        """Stop following the cluster (keep showing the last state)."""
        with self._live_lock:
            if self._live_released:
                return
            self._live_released = True
            self.stopped_reason = reason
        self._live_hub.remove(self)
        for child in self._live_parts():
            if isinstance(child, LiveWidget):
                child._live_release(reason)
        if not self._live_closed:
            with contextlib.suppress(Exception):  # the comm may be gone with the kernel
                self._live_stopped(reason)

    def _live_stopped(self, reason: str) -> None:
        """Show that the widget no longer follows the cluster (subclasses)."""

    def _live_parts(self) -> list[widgets.Widget]:
        """Widgets this one owns and closes with itself (default: its children, recursively)."""
        out: list[widgets.Widget] = []
        stack = list(self.children)
        while stack:
            child = stack.pop()
            out.append(child)
            if isinstance(child, widgets.Box) and not isinstance(child, LiveWidget):
                stack.extend(child.children)
        return out

    def refresh(self) -> None:
        """Redraw now (normally the hub does it within a quarter of a second of a change)."""
        self._live_redraw(time.monotonic())

    def close(self) -> None:
        """Release the subscriptions and close this widget and the widgets it is made of."""
        if self._live_closed:
            return
        self._live_closed = True
        self._live_release("closed")
        _registry.forget(self)
        for child in self._live_parts():
            child.close()
        super().close()


def stopped_html(reason: str) -> str:
    return f'{STYLE}<div class="nbcluster-note">■ stopped following the cluster: {escape(reason)}</div>'
