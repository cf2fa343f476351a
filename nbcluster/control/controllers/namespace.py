"""The namespace controller: empties a terminating namespace, then lets it go. No I/O.

Deleting a Namespace sets its deletionTimestamp (phase Terminating); this controller
deletes every namespaced object in it (pods gracefully, through their kubelets) and,
once nothing is left, removes the ``kubernetes`` finalizer so the namespace disappears.
"""

from __future__ import annotations

from typing import ClassVar

from nbcluster.api import resources
from nbcluster.control.controllers.base import Controller
from nbcluster.errors import NbClusterError
from nbcluster.store import WatchEvent
from nbcluster.util.jsoncopy import deep_copy

__all__ = ["NamespaceController"]

#: How often to look again while content remains (Kubernetes polls similarly).
RECHECK_SECONDS = 1.0


class NamespaceController(Controller):
    name: ClassVar[str] = "namespace-controller"
    primary: ClassVar[str] = "namespaces"

    def setup(self) -> None:
        super().setup()
        self.on(None, self._terminating_namespace_of)

    def _terminating_namespace_of(self, event: WatchEvent) -> str | None:
        """When an object of a terminating namespace goes away, look at the namespace again."""
        if event.type != "DELETED":
            return None
        namespace = event.object["metadata"].get("namespace")
        if not namespace:
            return None
        ns = self.api.cached("namespaces", namespace)
        return namespace if ns is not None and ns["metadata"].get("deletionTimestamp") else None

    def sync(self, key: str) -> float | None:
        ns = self.api.cached("namespaces", key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        remaining = 0
        for info in resources.RESOURCES:
            if not info.namespaced or "delete" not in info.verbs:
                continue
            for obj in self.api.store.list(info.group_resource, key)[0]:
                remaining += 1
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.api.delete(info, obj["metadata"]["name"], namespace=key)
                except NbClusterError:
                    continue
        if remaining:
            status = ns.get("status", {})
            condition = {
                "type": "NamespaceContentRemaining",
                "status": "True",
                "reason": "SomeResourcesRemain",
                "message": f"Some resources are remaining: {remaining} objects",
            }
            conditions = [c for c in status.get("conditions", []) if c.get("type") != condition["type"]]
            if condition not in status.get("conditions", []):
                new = deep_copy(ns)
                new["status"]["conditions"] = [*conditions, condition]
                self.api.update_status(new, owned=True)
            return RECHECK_SECONDS
        self.api.finalize_namespace(key)
        return None
