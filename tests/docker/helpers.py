"""Small helpers shared by the Docker tests (no fixtures)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from nbcluster.cluster import Cluster

T = TypeVar("T")


def eventually(fn: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1, what: str = "") -> T:
    """Call ``fn`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = fn()
        except AssertionError as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or fn}: last {last!r}")
        time.sleep(interval)


def pod(cluster: Cluster, name: str, namespace: str = "default") -> dict[str, Any]:
    obj = cluster.api.cached("pods", name, namespace)
    assert obj is not None, f"pod {name} not found"
    return obj


def container_status(cluster: Cluster, name: str, container: str, *, init: bool = False) -> dict[str, Any]:
    key = "initContainerStatuses" if init else "containerStatuses"
    for status in (pod(cluster, name).get("status") or {}).get(key) or ():
        if status["name"] == container:
            return status
    return {}


def events(cluster: Cluster, name: str) -> list[tuple[str, str]]:
    """(reason, message) of the events about pod ``name``, oldest first."""
    items = [
        e for e in cluster.objects("events", all_namespaces=True) if e["involvedObject"].get("name") == name
    ]
    items.sort(key=lambda e: int(e["metadata"].get("resourceVersion") or 0))
    return [(e.get("reason", ""), e.get("message", "")) for e in items]
