"""The in-memory versioned store with watch: nbcluster's etcd. No I/O (persistence is pluggable).

Objects are filed by *resource* (``pods``, ``deployments.apps``), namespace and name.
Every write bumps one cluster-wide revision, written into ``metadata.resourceVersion``.
Writers hand over ownership of the dict they pass; readers get the stored dict and
must not mutate it (deep-copy first), exactly like a client-go informer cache.

Listeners registered with :meth:`Store.subscribe` are called synchronously, in
revision order, under the store lock: they must be quick (map an event to a key and
enqueue it). :meth:`Store.watch` gives a thread- and asyncio-friendly stream that can
start from an earlier revision, replayed from a bounded history like etcd's.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from nbcluster.errors import AlreadyExists, Conflict, Gone, NotFound

__all__ = ["Store", "Watch", "WatchEvent", "object_key"]

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace or "", name)

_MISSING = object()


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change: ``type`` is ADDED, MODIFIED or DELETED; ``old`` the previous version."""

    type: str
    resource: str
    object: Obj
    old: Obj | None
    revision: int


def object_key(obj: Obj) -> Key:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])


class _Bucket:
    """All objects of one resource, with a namespace index and a label index."""

    __slots__ = ("by_key", "by_label", "by_namespace", "indexers", "indexes")

    def __init__(self) -> None:
        self.by_key: dict[Key, Obj] = {}
        self.by_namespace: dict[str, dict[str, Obj]] = {}
        self.by_label: dict[tuple[str, str], set[Key]] = {}
        self.indexers: dict[str, Callable[[Obj], Iterable[str]]] = {}
        self.indexes: dict[str, dict[str, set[Key]]] = {}

    def insert(self, key: Key, obj: Obj) -> None:
        self.by_key[key] = obj
        self.by_namespace.setdefault(key[0], {})[key[1]] = obj
        labels = obj["metadata"].get("labels")
        if labels:
            for pair in labels.items():
                self.by_label.setdefault(pair, set()).add(key)
        for name, fn in self.indexers.items():
            index = self.indexes[name]
            for value in fn(obj):
                index.setdefault(value, set()).add(key)

    def replace(self, key: Key, old: Obj, obj: Obj) -> None:
        """``remove(key, old)`` then ``insert(key, obj)``, touching only the index entries
        that change (a status write keeps labels, owner and node: nothing to re-index)."""
        self.by_key[key] = obj
        self.by_namespace[key[0]][key[1]] = obj
        old_labels = old["metadata"].get("labels")
        labels = obj["metadata"].get("labels")
        if old_labels is not labels and old_labels != labels:
            by_label = self.by_label
            if old_labels:
                for pair in old_labels.items():
                    if labels is None or labels.get(pair[0], _MISSING) != pair[1]:
                        keys = by_label.get(pair)
                        if keys is not None:
                            keys.discard(key)
                            if not keys:
                                del by_label[pair]
            if labels:
                for pair in labels.items():
                    by_label.setdefault(pair, set()).add(key)
        for name, fn in self.indexers.items():
            old_values = fn(old)
            values = fn(obj)
            if old_values == values:
                continue
            index = self.indexes[name]
            for value in old_values:
                if value not in values:
                    keys = index.get(value)
                    if keys is not None:
                        keys.discard(key)
                        if not keys:
                            del index[value]
            for value in values:
                index.setdefault(value, set()).add(key)

    def remove(self, key: Key, obj: Obj) -> None:
        del self.by_key[key]
        namespace = self.by_namespace[key[0]]
        del namespace[key[1]]
        if not namespace:
            del self.by_namespace[key[0]]
        labels = obj["metadata"].get("labels")
        if labels:
            for pair in labels.items():
                keys = self.by_label.get(pair)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self.by_label[pair]
        for name, fn in self.indexers.items():
            index = self.indexes[name]
            for value in fn(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]


class Watch:
    """A stream of :class:`WatchEvent`; iterate it from a thread or ``await`` it on a loop.

    ``stop()`` ends it (the store forgets it); iteration then finishes.
    """

    def __init__(
        self,
        store: Store,
        resource: str | None,
        namespace: str | None,
        transform: Callable[[WatchEvent], WatchEvent | None] | None,
    ) -> None:
        self._store = store
        self.resource = resource
        self.namespace = namespace
        self._transform = transform
        self._events: deque[WatchEvent] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._waiters: list[asyncio.Future[None]] = []
        self.stopped = False

    def _accept(self, event: WatchEvent) -> WatchEvent | None:
        """The event as this watch should see it, or None when it is not for us."""
        if self.resource is not None and event.resource != self.resource:
            return None
        if self.namespace is not None and event.object["metadata"].get("namespace", "") != self.namespace:
            return None
        return event if self._transform is None else self._transform(event)

    def _push(self, event: WatchEvent) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        for future in waiters:
            future.get_loop().call_soon_threadsafe(_wake, future)

    def get(self, timeout: float | None = None) -> WatchEvent | None:
        """The next event, waiting up to ``timeout`` seconds; None on timeout or stop."""
        with self._cond:
            if not self._events and not self.stopped:
                self._cond.wait(timeout)
            if self._events:
                return self._events.popleft()
            return None

    def drain(self) -> list[WatchEvent]:
        """Every event queued so far, without waiting."""
        with self._cond:
            events = list(self._events)
            self._events.clear()
            return events

    async def next(self) -> WatchEvent | None:
        """Await the next event on the running loop; None once stopped."""
        while True:
            with self._cond:
                if self._events:
                    return self._events.popleft()
                if self.stopped:
                    return None
                future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiters.append(future)
            await future

    def __iter__(self) -> Iterator[WatchEvent]:
        while not self.stopped:
            event = self.get(timeout=0.5)
            if event is not None:
                yield event

    def stop(self) -> None:
        self._store._forget(self)
        with self._cond:
            self.stopped = True
            self._events.clear()
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        for future in waiters:
            future.get_loop().call_soon_threadsafe(_wake, future)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Store:
    """Thread-safe versioned object store.

    ``history`` bounds how many past events a watch can replay (like etcd's
    compaction); asking for an older revision raises :class:`Gone`.
    """

    def __init__(self, *, history: int = 50_000, persistence: Any = None) -> None:
        self.lock = threading.RLock()
        self._buckets: dict[str, _Bucket] = {}
        self._revision = 0
        self._history: deque[WatchEvent] = deque(maxlen=history)
        self._listeners: dict[str | None, list[Callable[[WatchEvent], None]]] = {}
        self._watches: list[Watch] = []
        self._persistence = persistence
        if persistence is not None:
            revision = 0
            for resource, obj in persistence.load():
                self._bucket(resource).insert(object_key(obj), obj)
                revision = max(revision, int(obj["metadata"].get("resourceVersion", 0)))
            self._revision = max(revision, persistence.revision())

    # -- reading -------------------------------------------------------------

    @property
    def revision(self) -> int:
        return self._revision

    def _bucket(self, resource: str) -> _Bucket:
        bucket = self._buckets.get(resource)
        if bucket is None:
            bucket = self._buckets[resource] = _Bucket()
        return bucket

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        bucket = self._buckets.get(resource)
        return bucket.by_key.get((namespace or "", name)) if bucket else None

    def list(self, resource: str, namespace: str | None = None) -> tuple[list[Obj], int]:
        """Objects of a resource (in one namespace, or all when None) and the revision."""
        with self.lock:
            bucket = self._buckets.get(resource)
            if bucket is None:
                return [], self._revision
            if namespace is None:
                return list(bucket.by_key.values()), self._revision
            return list(bucket.by_namespace.get(namespace, {}).values()), self._revision

    def count(self, resource: str) -> int:
        bucket = self._buckets.get(resource)
        return len(bucket.by_key) if bucket else 0

    def namespaces_in_use(self, resource: str) -> list[str]:
        bucket = self._buckets.get(resource)
        return list(bucket.by_namespace) if bucket else []

    def by_labels(self, resource: str, pairs: dict[str, str], namespace: str | None = None) -> list[Obj]:
        """Objects carrying every label pair (an index lookup, not a scan)."""
        with self.lock:
            bucket = self._buckets.get(resource)
            if bucket is None:
                return []
            keys: set[Key] | None = None
            for pair in sorted(pairs.items(), key=lambda p: len(bucket.by_label.get(p, ()))):
                found = bucket.by_label.get(pair)
                if not found:
                    return []
                keys = set(found) if keys is None else keys & found
                if not keys:
                    return []
            if keys is None:
                return self.list(resource, namespace)[0]
            return [bucket.by_key[k] for k in keys if namespace is None or k[0] == namespace]

    def add_index(self, resource: str, name: str, fn: Callable[[Obj], Iterable[str]]) -> None:
        """Keep an index of ``resource`` objects by the values ``fn`` returns."""
        with self.lock:
            bucket = self._bucket(resource)
            if name in bucket.indexers:
                return
            bucket.indexers[name] = fn
            index: dict[str, set[Key]] = {}
            for key, obj in bucket.by_key.items():
                for value in fn(obj):
                    index.setdefault(value, set()).add(key)
            bucket.indexes[name] = index

    def by_index(self, resource: str, name: str, value: str) -> list[Obj]:
        with self.lock:
            bucket = self._buckets.get(resource)
            if bucket is None or name not in bucket.indexes:
                raise KeyError(f"no index {name!r} on {resource}")
            return [bucket.by_key[k] for k in bucket.indexes[name].get(value, ())]

    # -- writing -------------------------------------------------------------

    def create(self, resource: str, obj: Obj) -> Obj:
        with self.lock:
            key = object_key(obj)
            bucket = self._bucket(resource)
            if key in bucket.by_key:
                raise AlreadyExists(f'{resource} "{key[1]}" already exists')
            self._revision += 1
            obj["metadata"]["resourceVersion"] = str(self._revision)
            bucket.insert(key, obj)
            self._emit(WatchEvent(ADDED, resource, obj, None, self._revision))
            return obj

    def update(self, resource: str, obj: Obj, *, expected_revision: str | None = None) -> Obj:
        """Replace an object; with ``expected_revision`` fail with Conflict when stale."""
        with self.lock:
            key = object_key(obj)
            bucket = self._bucket(resource)
            old = bucket.by_key.get(key)
            if old is None:
                raise NotFound(f'{resource} "{key[1]}" not found')
            if expected_revision and expected_revision != old["metadata"]["resourceVersion"]:
                raise Conflict(
                    f'Operation cannot be fulfilled on {resource} "{key[1]}": the object has been '
                    "modified; please apply your changes to the latest version and try again"
                )
            self._revision += 1
            obj["metadata"]["resourceVersion"] = str(self._revision)
            bucket.replace(key, old, obj)
            self._emit(WatchEvent(MODIFIED, resource, obj, old, self._revision))
            return obj

    def delete(
        self, resource: str, namespace: str, name: str, *, expected_revision: str | None = None
    ) -> Obj:
        with self.lock:
            key = (namespace or "", name)
            bucket = self._bucket(resource)
            old = bucket.by_key.get(key)
            if old is None:
                raise NotFound(f'{resource} "{name}" not found')
            if expected_revision and expected_revision != old["metadata"]["resourceVersion"]:
                raise Conflict(
                    f'Operation cannot be fulfilled on {resource} "{name}": the object has been '
                    "modified; please apply your changes to the latest version and try again"
                )
            self._revision += 1
            bucket.remove(key, old)
            # The DELETED event carries the last state with the deletion's revision, like etcd.
            gone = dict(old)
            gone["metadata"] = {**old["metadata"], "resourceVersion": str(self._revision)}
            self._emit(WatchEvent(DELETED, resource, gone, old, self._revision))
            return gone

    def _emit(self, event: WatchEvent) -> None:
        self._history.append(event)
        if self._persistence is not None:
            self._persistence.record(event)
        for listener in self._listeners.get(event.resource, ()):
            listener(event)
        for listener in self._listeners.get(None, ()):
            listener(event)
        for watch in self._watches:
            seen = watch._accept(event)
            if seen is not None:
                watch._push(seen)

    # -- watching ------------------------------------------------------------

    def subscribe(self, resource: str | None, listener: Callable[[WatchEvent], None]) -> Callable[[], None]:
        """Call ``listener`` synchronously for every later event (of one resource, or all)."""
        with self.lock:
            self._listeners.setdefault(resource, []).append(listener)

        def unsubscribe() -> None:
            with self.lock:
                listeners = self._listeners.get(resource, [])
                if listener in listeners:
                    listeners.remove(listener)

        return unsubscribe

    def watch(
        self,
        resource: str | None,
        *,
        namespace: str | None = None,
        since: int | None = None,
        transform: Callable[[WatchEvent], WatchEvent | None] | None = None,
    ) -> Watch:
        """A stream of every event after revision ``since`` (default: from now on).

        ``transform`` may drop an event (None) or rewrite it (a label-selector watch
        turns "stopped matching" into DELETED, as the API server does).
        """
        with self.lock:
            watch = Watch(self, resource, namespace, transform)
            if since is not None and since < self._revision:
                oldest = self._history[0].revision if self._history else self._revision + 1
                if since < oldest - 1:
                    raise Gone(f"too old resource version: {since} ({oldest - 1})")
                for event in self._history:
                    if event.revision > since:
                        seen = watch._accept(event)
                        if seen is not None:
                            watch._events.append(seen)
            self._watches.append(watch)
            return watch

    def _forget(self, watch: Watch) -> None:
        with self.lock:
            if watch in self._watches:
                self._watches.remove(watch)

    @property
    def watch_count(self) -> int:
        return len(self._watches)

    def close(self) -> None:
        with self.lock:
            for watch in list(self._watches):
                watch.stop()
            if self._persistence is not None:
                self._persistence.close()
