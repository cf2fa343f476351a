"""The event recorder every component uses to write ``v1/Event`` objects. No I/O.

Events are deduplicated as client-go's EventCorrelator does: the same involved
object, reason, message and source bump ``count`` and ``lastTimestamp`` of one Event
instead of creating another. Old events are pruned (Kubernetes keeps one hour by
default; we also cap the number, so a 100k-pod simulation does not keep a million).
"""

from __future__ import annotations

import secrets
import threading
from enum import Enum
from typing import Any

from nbcluster.errors import NbClusterError
from nbcluster.util.clock import Clock, format_time

__all__ = ["EventRecorder", "EventType"]

Obj = dict[str, Any]


class EventType(str, Enum):
    NORMAL = "Normal"
    WARNING = "Warning"


class EventRecorder:
    """Writes Events through the API server on behalf of one component (``source``)."""

    def __init__(
        self, api: Any, clock: Clock, component: str, host: str | None = None, *, enabled: bool = True
    ) -> None:
        self.api = api
        self.clock = clock
        self.component = component
        self.host = host
        self.enabled = enabled
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str, str, str], tuple[str, str]] = {}

    def event(
        self, obj: Obj, type: EventType | str, reason: str, message: str, *, field_path: str | None = None
    ) -> None:
        """Record that ``reason`` happened to ``obj`` (kubectl's wording in ``message``)."""
        if not self.enabled:
            return
        meta = obj.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        involved = {
            "apiVersion": obj.get("apiVersion", "v1"),
            "kind": obj.get("kind", ""),
            "name": meta.get("name", ""),
            "namespace": meta.get("namespace", ""),
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        if not involved["namespace"]:
            del involved["namespace"]
        type_text = type.value if isinstance(type, EventType) else type
        now = format_time(self.clock.now())
        key = (involved["uid"] or involved["name"], reason, message, field_path or "")
        with self._lock:
            existing = self._seen.get(key)
        try:
            if existing is not None:
                current = self.api.cached("events", existing[1], existing[0])
                if current is not None:
                    updated = dict(current)
                    updated["metadata"] = dict(current["metadata"])
                    updated["count"] = int(current.get("count", 1)) + 1
                    updated["lastTimestamp"] = now
                    self.api.update(updated, owned=True)
                    return
            name = f"{involved['name']}.{secrets.token_hex(8)}"
            source: Obj = {"component": self.component}
            if self.host:
                source["host"] = self.host
            self.api.create(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": name, "namespace": namespace},
                    "involvedObject": involved,
                    "reason": reason,
                    "message": message,
                    "type": type_text,
                    "source": source,
                    "count": 1,
                    "firstTimestamp": now,
                    "lastTimestamp": now,
                    "eventTime": None,
                    "reportingComponent": self.component,
                    "reportingInstance": self.host or "",
                },
                validate_schema=False,
                owned=True,
            )
            with self._lock:
                self._seen[key] = (namespace, name)
                if len(self._seen) > 20_000:
                    self._seen.clear()
        except NbClusterError:
            # Events are best effort, as in Kubernetes: a terminating namespace or a
            # pruned event must never fail the component that reports.
            pass
