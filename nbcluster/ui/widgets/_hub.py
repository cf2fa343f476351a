"""The one background thread that keeps every live widget current. No I/O, no ipywidgets here.

Widgets never watch the API server themselves. A :class:`Hub` (one per process) owns
one :class:`Feed` per cluster and resource — a single store :class:`Watch` over all
namespaces, however many widgets show that resource — and one daemon thread,
``nbcluster:widgets``, that every :data:`TICK` seconds:

1. drains each feed's watch (the control plane's cost stays one Watch push per event:
   no callback ever runs on its thread), coalesces the events per object (the last
   state wins) and hands each subscriber the changes it asked for (namespace, label
   and field selector), skipping what its initial list already held;
2. lets every client poll (debounced writes, log fetches), then redraws the clients that
   are due, most overdue first, until the tick's :data:`BUDGET` is spent;
3. notices a stopped cluster (its plane stops running, or the store closes its
   watches) and releases the clients of that cluster.

The thread starts with the first client and ends when the last one is removed, so a
closed widget leaves no thread behind. The hub keeps its own work to a bounded share
of the GIL: after a tick that took C seconds it sleeps at least (:data:`DUTY` - 1)·C, so
under a flood of changes widgets redraw less often instead of slowing the control plane.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from nbcluster.api.resources import ResourceInfo, resolve
from nbcluster.cli.printers import row
from nbcluster.control.apiserver import Selector
from nbcluster.store.memory import WatchEvent
from nbcluster.util.clock import parse_time

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = ["BUDGET", "DUTY", "TICK", "Client", "Feed", "Hub", "Row", "RowCache", "Subscription", "hub"]

log = logging.getLogger("nbcluster.widgets")

Obj = dict[str, Any]
Key = tuple[str, str]
Changes = dict[Key, "Obj | None"]

#: How often the hub thread wakes (seconds): changes reach widgets within about this.
TICK = 0.1
#: The hub's work is kept to at most 1/DUTY of the wall clock (it sleeps DUTY-1 times a tick's cost).
DUTY = 16.0
#: Redraws one tick may do (seconds): past it, the most overdue widgets went first, the rest wait a tick.
BUDGET = 0.05
THREAD_NAME = "nbcluster:widgets"  # a colon: no cluster thread (nbcluster-NAME) can take it


class Client(Protocol):
    """What the hub serves (a live widget)."""

    def _live_cluster(self) -> Cluster: ...

    def _live_poll(self, now: float) -> None: ...

    def _live_due(self, now: float) -> float | None: ...

    def _live_redraw(self, now: float) -> None: ...

    def _live_release(self, reason: str) -> None: ...


class Subscription:
    """One client's interest in one resource: namespace (None: all) and selectors."""

    __slots__ = ("callback", "client", "feed", "info", "namespace", "selector", "since")

    def __init__(
        self,
        client: Client,
        info: ResourceInfo,
        namespace: str | None,
        selector: Selector | None,
        callback: Callable[[Changes], None],
    ) -> None:
        self.client = client
        self.info = info
        self.namespace = namespace if info.namespaced else None
        self.selector = selector
        self.callback = callback
        self.since = 0
        self.feed: Feed | None = None

    def wants(self, key: Key, event: WatchEvent) -> Obj | bool | None:
        """The object to show, None to drop the key, False when the event is not ours.

        Callbacks receive ``{key: object or None}``; the dict may be shared by several
        subscribers: read it, never change it.
        """
        if self.namespace is not None and key[0] != self.namespace:
            return False
        if event.revision <= self.since:
            return False
        if event.type == "DELETED":
            return None
        if self.selector is not None and not self.selector.matches(event.object):
            return None  # stopped matching (or never did): dropping an unknown key is harmless
        return event.object


def object_key(obj: Obj) -> Key:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])


class Row:
    """One object's kubectl cells (and the ``<tr>`` HTML tables made of them), as of ``computed``."""

    __slots__ = ("born", "cells", "computed", "html", "obj")

    def __init__(self, obj: Obj, computed: float, born: float, cells: list[str]) -> None:
        self.obj = obj
        self.computed = computed
        self.born = born
        self.cells = cells
        #: ``<tr>`` strings by table layout (see LiveTable), made once and shared by every table.
        self.html: dict[Any, str] = {}


class RowCache:
    """kubectl's row cells per object, shared by every table of one resource.

    A row is computed again when its object changed, or when its time cells may
    have moved: every second while the object is younger than ten minutes (AGE
    reads ``3m12s``), every ten seconds after (AGE reads ``15m``, ``3h``).
    """

    YOUNG = 600.0

    def __init__(self) -> None:
        self._rows: dict[tuple[Key, bool], Row] = {}

    def row(self, key: Key, obj: Obj, now: datetime, now_s: float, *, wide: bool) -> Row:
        entry = self._rows.get((key, wide))
        if entry is not None and entry.obj is obj:
            refresh = 1.0 if now_s - entry.born < self.YOUNG else 10.0
            if now_s - entry.computed < refresh:
                return entry
            born = entry.born
        elif entry is not None and _created(entry.obj) == _created(obj):
            born = entry.born  # a new version of the same object: same birth, no parsing
        else:
            born = _born(obj, now_s)
        entry = self._rows[(key, wide)] = Row(obj, now_s, born, row(obj, now=now, wide=wide))
        return entry

    def cells(self, key: Key, obj: Obj, now: datetime, now_s: float, *, wide: bool) -> list[str]:
        return self.row(key, obj, now, now_s, wide=wide).cells

    def forget(self, key: Key) -> None:
        self._rows.pop((key, False), None)
        self._rows.pop((key, True), None)

    def clear(self) -> None:
        self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)


def _created(obj: Obj) -> Any:
    return (obj.get("metadata") or {}).get("creationTimestamp")


def _born(obj: Obj, now_s: float) -> float:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return now_s
    try:
        return parse_time(stamp).timestamp()
    except (TypeError, ValueError):
        return now_s


class Feed:
    """One Watch on one resource of one cluster, fanned out to subscriptions."""

    def __init__(self, cluster: Cluster, info: ResourceInfo) -> None:
        self.cluster = cluster
        self.info = info
        self.watch = cluster.api.watch(info)
        self.subs: list[Subscription] = []
        self.rows = RowCache()
        self.events = 0

    @property
    def alive(self) -> bool:
        return not self.watch.stopped

    def pump(self) -> None:
        events = self.watch.drain()
        if not events:
            return
        self.events += len(events)
        # the last state of each object, grouped by namespace (one pass, shared by every subscriber)
        latest: dict[Key, WatchEvent] = {}
        for event in events:
            key = object_key(event.object)
            latest[key] = event
            if event.type == "DELETED":
                self.rows.forget(key)
        first = events[0].revision
        by_namespace: dict[str, Changes] = {}
        everything: Changes = {}
        for key, event in latest.items():
            obj = None if event.type == "DELETED" else event.object
            everything[key] = obj
            by_namespace.setdefault(key[0], {})[key] = obj
        for sub in list(self.subs):
            if sub.since >= first:
                # its initial list already holds some of these: the careful way, event by event
                changes: Changes = {}
                for key, event in latest.items():
                    seen = sub.wants(key, event)
                    if seen is not False:
                        changes[key] = seen  # type: ignore[assignment]
            else:
                mine = everything if sub.namespace is None else by_namespace.get(sub.namespace, {})
                if sub.selector is None:
                    changes = mine  # shared, read-only
                else:
                    matches = sub.selector.matches
                    changes = {k: (o if o is not None and matches(o) else None) for k, o in mine.items()}
            if changes:
                try:
                    sub.callback(changes)
                except Exception:  # a widget's bug must not stop the others
                    log.exception("live widget: handling %s changes", self.info.plural)

    def stop(self) -> None:
        self.watch.stop()


class Hub:
    """The shared background thread and the feeds (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._feeds: dict[tuple[int, str], Feed] = {}
        self._clients: list[Client] = []
        self._thread: threading.Thread | None = None
        self._quit: threading.Event | None = None
        self._wake = threading.Event()
        #: Seconds spent serving (pump + redraws), for the benchmark.
        self.busy = 0.0
        self.ticks = 0

    # -- clients ----------------------------------------------------------------

    def add(self, client: Client) -> None:
        with self._lock:
            if client not in self._clients:
                self._clients.append(client)
            self._ensure_thread()

    def remove(self, client: Client) -> None:
        """Forget ``client``: its subscriptions go, feeds nobody reads stop, the thread ends with the last."""
        thread = None
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)
            for key, feed in list(self._feeds.items()):
                feed.subs = [s for s in feed.subs if s.client is not client]
                if not feed.subs:
                    feed.stop()
                    del self._feeds[key]
            if not self._clients and self._thread is not None:
                assert self._quit is not None
                self._quit.set()
                self._wake.set()
                thread, self._thread, self._quit = self._thread, None, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def subscribe(
        self,
        client: Client,
        resource: str | ResourceInfo,
        callback: Callable[[Changes], None],
        *,
        namespace: str | None = None,
        labels: str | dict | None = None,
        fields: str | None = None,
    ) -> Subscription:
        """Deliver ``resource``'s objects to ``callback``: first all current ones, then every change.

        The first call (on this thread, before this returns) carries the objects that
        match now; later calls (on the hub thread) carry each change after that, once.
        Objects are the store's own: never mutate them. Deleted or no longer matching
        objects arrive as ``key: None``.
        """
        cluster = client._live_cluster()
        info = resource if isinstance(resource, ResourceInfo) else resolve(resource)
        selector = Selector(labels, fields) if (labels or fields) else None
        if selector is not None and selector.fields is not None:
            selector.fields = selector.fields.validate_for(info.kind)
        sub = Subscription(client, info, namespace, selector, callback)
        api = cluster.api
        with self._lock:
            key = (id(api.store), info.group_resource)
            feed = self._feeds.get(key)
            if feed is None or not feed.alive:
                feed = self._feeds[key] = Feed(cluster, info)
            # The feed's watch exists before this snapshot, so every later event is in its queue;
            # the hub drains under self._lock, so none can slip between the snapshot and the first pump.
            with api.store.lock:
                items = list(api.cached_list(info, sub.namespace, selector))
                sub.since = api.store.revision
            callback({object_key(obj): obj for obj in items})
            sub.feed = feed
            feed.subs.append(sub)
            self._ensure_thread()
        return sub

    def feed(self, cluster: Cluster, resource: str | ResourceInfo) -> Feed | None:
        info = resource if isinstance(resource, ResourceInfo) else resolve(resource)
        with self._lock:
            return self._feeds.get((id(cluster.api.store), info.group_resource))

    def wake(self) -> None:
        """Serve the clients now rather than at the next tick (after a user action)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def watch_count(self) -> int:
        with self._lock:
            return len(self._feeds)

    @property
    def clients(self) -> list[Client]:
        with self._lock:
            return list(self._clients)

    # -- the thread ---------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._quit = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._quit,), name=THREAD_NAME, daemon=True)
        self._thread.start()

    def _run(self, quit_event: threading.Event) -> None:
        while not quit_event.is_set():
            started = time.perf_counter()
            try:
                self._tick()
            except Exception:  # keep serving whatever happens
                log.exception("live widgets: tick failed")
            cost = time.perf_counter() - started
            self.busy += cost
            self.ticks += 1
            pause = max(TICK - cost, cost * (DUTY - 1))
            self._wake.wait(pause)
            self._wake.clear()

    def _tick(self) -> None:
        dead: list[Client] = []
        with self._lock:
            for key, feed in list(self._feeds.items()):
                if not feed.alive or not feed.cluster.running:
                    dead += [s.client for s in feed.subs]
                    feed.stop()
                    del self._feeds[key]
                    continue
                feed.pump()
            clients = list(self._clients)
        for client in clients:
            try:
                alive = client._live_cluster().running
            except Exception:
                alive = False
            if not alive:
                dead.append(client)
        for client in dict.fromkeys(dead):
            client._live_release("the cluster stopped")
        now = time.monotonic()
        live = [c for c in clients if c not in dead]
        for client in live:
            try:
                client._live_poll(now)
            except Exception:
                log.exception("live widget: poll failed")
        # redraw the most overdue first, within this tick's budget (the rest wait for the next tick)
        due = [(late, index, c) for index, c in enumerate(live) if (late := c._live_due(now)) is not None]
        due.sort(key=lambda item: (-item[0], item[1]))
        deadline = time.perf_counter() + BUDGET
        for _late, _index, client in due:
            try:
                client._live_redraw(now)
            except Exception:
                log.exception("live widget: redraw failed")
            if time.perf_counter() > deadline:
                break


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    """The process's hub."""
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = Hub()
        return _hub
