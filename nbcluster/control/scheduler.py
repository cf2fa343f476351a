"""The scheduler's doing half: watches Pending pods and nodes, binds pods. No I/O beyond the API server.

It keeps a cache of :class:`~nbcluster.control.scheduling.NodeInfo` (one per node,
with the pods bound there) in a :class:`~nbcluster.control.scheduling.NodeIndex`, fed by
the pod and node event handlers, and for each unbound pod asks the index, which gives
the pure :func:`~nbcluster.control.scheduling.schedule`'s answer without visiting every
node in the common case (1,000 nodes cost about what 10 did). A pod that
fits nowhere gets ``PodScheduled=False/Unschedulable`` and a FailedScheduling event
with kube-scheduler's wording; it is retried when the cluster changes (a node is
added or changes, a pod goes away) and at least every ``retry_seconds``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from nbcluster.control.controllers.base import Controller, object_key, split_key
from nbcluster.control.events import EventType
from nbcluster.control.scheduling import NodeIndex, NodeInfo
from nbcluster.errors import Conflict, NotFound
from nbcluster.store import WatchEvent
from nbcluster.util.clock import format_time
from nbcluster.util.jsoncopy import deep_copy

__all__ = ["Scheduler"]

Obj = dict[str, Any]

DEFAULT_SCHEDULER = "default-scheduler"


def _holds_resources(pod: Obj) -> bool:
    return pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")


class Scheduler(Controller):
    name: ClassVar[str] = "default-scheduler"
    primary: ClassVar[str] = ""

    def __init__(self, api: Any, clock: Any, *, retry_seconds: float = 60.0, **kwargs: Any) -> None:
        super().__init__(api, clock, **kwargs)
        self.retry_seconds = retry_seconds
        self.index = NodeIndex()
        #: node name -> NodeInfo (the index's own dict: change it through ``self.index``)
        self.nodes: dict[str, NodeInfo] = self.index.nodes
        self.unschedulable: set[str] = set()

    # -- cache ---------------------------------------------------------------

    def setup(self) -> None:
        with self.api.store.lock:
            for node in self.api.cached_list("nodes"):
                self.index.add(NodeInfo(node))
            for pod in self.api.cached_list("pods"):
                self._account(pod)
            self.on("nodes", self._on_node)
            self.on("pods", self._on_pod)

    def initial_keys(self) -> list[str]:
        return [object_key(p) for p in self.api.cached_list("pods") if self._wants(p)]

    def _wants(self, pod: Obj) -> bool:
        spec = pod["spec"]
        return (
            not spec.get("nodeName")
            and not pod["metadata"].get("deletionTimestamp")
            and spec.get("schedulerName", DEFAULT_SCHEDULER) == DEFAULT_SCHEDULER
            and not spec.get("schedulingGates")
        )

    def _account(self, pod: Obj) -> None:
        node = pod["spec"].get("nodeName")
        if node and node in self.nodes and _holds_resources(pod):
            self.nodes[node].add_pod(pod)

    def _on_node(self, event: WatchEvent) -> list[str]:
        name = event.object["metadata"]["name"]
        if event.type == "DELETED":
            self.index.remove(name)
            return []
        info = self.nodes.get(name)
        if info is None:
            info = NodeInfo(event.object)
            for pod in self.api.pods_on_node(name):
                if _holds_resources(pod):
                    info.add_pod(pod)
            self.index.add(info)
        else:
            info.set_node(event.object)
        return self._retry_unschedulable()

    def _on_pod(self, event: WatchEvent) -> list[str] | str | None:
        pod = event.object
        key = object_key(pod)
        old_node = (event.old or {}).get("spec", {}).get("nodeName") if event.old else None
        node = pod["spec"].get("nodeName")
        if event.type == "DELETED" or not _holds_resources(pod):
            self.unschedulable.discard(key)
            freed = False
            for name in {old_node, node} - {None}:
                info = self.nodes.get(name)  # type: ignore[arg-type]
                if info is not None and info.remove_pod(pod):
                    freed = True
            return self._retry_unschedulable() if freed else None
        if node:
            self.unschedulable.discard(key)
            info = self.nodes.get(node)
            # Status writes share the old version's spec dict: only a new spec can change requests.
            if info is not None and (
                event.old is None
                or not old_node
                or (event.old["spec"] is not pod["spec"] and _requests_changed(event.old, pod))
            ):
                info.add_pod(pod)
            return None
        if self._wants(pod):
            return key
        return None

    def _retry_unschedulable(self) -> list[str]:
        keys, self.unschedulable = list(self.unschedulable), set()
        return keys

    # -- scheduling ----------------------------------------------------------

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        pod = self.api.cached("pods", name, namespace)
        if pod is None or not self._wants(pod):
            self.unschedulable.discard(key)
            return None
        volume_problem = self._volume_problem(pod)
        if volume_problem is not None:
            self._unschedulable(key, pod, volume_problem)
            return self.retry_seconds
        result = self.index.schedule(pod)
        if result.node_name is None:
            self._unschedulable(key, pod, result.message)
            return self.retry_seconds
        try:
            bound = self.api.bind(namespace, name, result.node_name)
        except (Conflict, NotFound):
            return None
        self.unschedulable.discard(key)
        info = self.nodes.get(result.node_name)
        # Our pod listener accounted the bound pod already (the store calls it inside bind).
        if info is not None and not info.has_pod(bound):
            info.add_pod(bound)
        self.events.event(
            bound,
            EventType.NORMAL,
            "Scheduled",
            f"Successfully assigned {namespace}/{name} to {result.node_name}",
        )
        return None

    def _volume_problem(self, pod: Obj) -> str | None:
        """Claims must exist and be bound before a pod can land anywhere."""
        namespace = pod["metadata"]["namespace"]
        for volume in pod["spec"].get("volumes") or ():
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = self.api.cached("persistentvolumeclaims", claim, namespace)
            if pvc is None:
                return f'persistentvolumeclaim "{claim}" not found'
            if pvc.get("status", {}).get("phase") != "Bound":
                return f"0/{len(self.nodes)} nodes are available: pod has unbound immediate PersistentVolumeClaims."
        return None

    def _unschedulable(self, key: str, pod: Obj, message: str) -> None:
        self.unschedulable.add(key)
        conditions = pod.get("status", {}).get("conditions") or []
        current = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
        if current is None or current.get("status") != "False" or current.get("message") != message:
            new = deep_copy(pod)
            status = new.setdefault("status", {})
            status["conditions"] = [c for c in conditions if c.get("type") != "PodScheduled"] + [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": message,
                    "lastProbeTime": None,
                    "lastTransitionTime": format_time(self.clock.now()),
                }
            ]
            try:
                self.api.update_status(new, owned=True)
            except (Conflict, NotFound):
                return
        self.events.event(pod, EventType.WARNING, "FailedScheduling", message)


def _requests_changed(old: Obj, new: Obj) -> bool:
    return [c.get("resources") for c in old["spec"].get("containers", [])] != [
        c.get("resources") for c in new["spec"].get("containers", [])
    ]
