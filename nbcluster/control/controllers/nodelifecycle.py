"""The node lifecycle controller: notices silent nodes, taints them, evicts their pods. No I/O.

A kubelet renews its Lease (kube-node-lease) every 10 s. When a Lease is older than
``monitor_grace_seconds`` (40 s, Kubernetes' node-monitor-grace-period) the node's
conditions become Unknown ("Kubelet stopped posting node status."), its pods are
marked not ready, and it gets the ``node.kubernetes.io/unreachable`` taints; a node
reporting Ready=False gets ``node.kubernetes.io/not-ready`` and its pods are marked not
ready too. Pods on a node with a
NoExecute taint are deleted once their toleration runs out (the default toleration
the API server adds is 300 s), like the taint manager. A cordoned node gets the
``node.kubernetes.io/unschedulable`` taint. When the node comes back the taints go.
"""

from __future__ import annotations

from typing import Any, ClassVar

from nbcluster.control.controllers.base import Controller
from nbcluster.control.events import EventType
from nbcluster.control.scheduling import no_execute_eviction_delay
from nbcluster.errors import NotFound
from nbcluster.store import WatchEvent
from nbcluster.util.clock import format_time, parse_time
from nbcluster.util.jsoncopy import deep_copy

__all__ = ["NodeLifecycleController"]

Obj = dict[str, Any]

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
_MANAGED = {UNREACHABLE, NOT_READY, UNSCHEDULABLE}


def _condition(node: Obj, kind: str) -> Obj | None:
    for condition in node.get("status", {}).get("conditions", ()):
        if condition.get("type") == kind:
            return condition
    return None


class NodeLifecycleController(Controller):
    name: ClassVar[str] = "node-controller"
    primary: ClassVar[str] = "nodes"

    def __init__(self, api: Any, clock: Any, *, monitor_grace_seconds: float = 40.0, **kwargs: Any) -> None:
        super().__init__(api, clock, **kwargs)
        self.monitor_grace_seconds = monitor_grace_seconds

    def setup(self) -> None:
        super().setup()
        self.on("leases.coordination.k8s.io", self._node_of_recovered_lease)

    def _node_of_recovered_lease(self, event: WatchEvent) -> str | None:
        lease = event.object
        if lease["metadata"].get("namespace") != "kube-node-lease":
            return None
        name = lease["metadata"]["name"]
        node = self.api.cached("nodes", name)
        if node is None:
            return None
        ready = _condition(node, "Ready")
        # Renewals of a healthy node need no work; one of a node we marked Unknown does.
        return name if ready is not None and ready.get("status") == "Unknown" else None

    def _last_heartbeat(self, node: Obj) -> float | None:
        lease = self.api.cached("leases.coordination.k8s.io", node["metadata"]["name"], "kube-node-lease")
        stamps = []
        if lease is not None and lease.get("spec", {}).get("renewTime"):
            stamps.append(parse_time(lease["spec"]["renewTime"]).timestamp())
        ready = _condition(node, "Ready")
        if ready is not None and ready.get("lastHeartbeatTime"):
            stamps.append(parse_time(ready["lastHeartbeatTime"]).timestamp())
        if not stamps and node["metadata"].get("creationTimestamp"):
            stamps.append(parse_time(node["metadata"]["creationTimestamp"]).timestamp())
        return max(stamps) if stamps else None

    def sync(self, key: str) -> float | None:
        node = self.api.cached("nodes", key)
        if node is None:
            return None
        now = self.clock.now()
        heartbeat = self._last_heartbeat(node)
        silent_for = now.timestamp() - heartbeat if heartbeat is not None else 0.0
        requeue: float | None = None
        ready = _condition(node, "Ready")
        if silent_for > self.monitor_grace_seconds:
            if ready is None or ready.get("status") != "Unknown":
                node = self._mark_unknown(node)
                ready = _condition(node, "Ready")
        else:
            requeue = self.monitor_grace_seconds - silent_for + 0.5
            if ready is not None and ready.get("status") == "False":
                # The kubelet itself says NotReady (its runtime is down): MarkPodsNotReady.
                stamp = format_time(now)
                for pod in self.api.pods_on_node(node["metadata"]["name"]):
                    self._mark_pod_not_ready(pod, stamp)
        node = self._reconcile_taints(node, ready)
        eviction_requeue = self._evict(node)
        candidates = [t for t in (requeue, eviction_requeue) if t is not None]
        return min(candidates) if candidates else None

    def _mark_unknown(self, node: Obj) -> Obj:
        stamp = format_time(self.clock.now())
        new = deep_copy(node)
        conditions = new.setdefault("status", {}).setdefault("conditions", [])
        for condition in conditions:
            if condition.get("status") != "Unknown":
                condition["status"] = "Unknown"
                condition["reason"] = "NodeStatusUnknown"
                condition["message"] = "Kubelet stopped posting node status."
                condition["lastTransitionTime"] = stamp
        stored = self.api.update_status(new, owned=True)
        self.events.event(
            stored,
            EventType.NORMAL,
            "NodeNotReady",
            f"Node {node['metadata']['name']} status is now: NodeNotReady",
        )
        for pod in self.api.pods_on_node(node["metadata"]["name"]):
            self._mark_pod_not_ready(pod, stamp)
        return stored

    def _mark_pod_not_ready(self, pod: Obj, stamp: str) -> None:
        conditions = pod.get("status", {}).get("conditions", [])
        if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            return
        new = deep_copy(pod)
        for condition in new["status"]["conditions"]:
            if condition.get("type") in ("Ready", "ContainersReady") and condition.get("status") == "True":
                condition["status"] = "False"
                condition["lastTransitionTime"] = stamp
                if condition["type"] == "Ready":
                    condition["reason"] = "NodeNotReady"
                    condition["message"] = ""
        try:
            self.api.update_status(new, owned=True)
        except NotFound:
            return
        self.events.event(pod, EventType.WARNING, "NodeNotReady", "Node is not ready")

    def _reconcile_taints(self, node: Obj, ready: Obj | None) -> Obj:
        status = (ready or {}).get("status", "Unknown")
        wanted: list[Obj] = []
        if status == "Unknown" and ready is not None:
            wanted = [
                {"key": UNREACHABLE, "effect": "NoSchedule"},
                {"key": UNREACHABLE, "effect": "NoExecute"},
            ]
        elif status == "False":
            wanted = [{"key": NOT_READY, "effect": "NoSchedule"}, {"key": NOT_READY, "effect": "NoExecute"}]
        if node.get("spec", {}).get("unschedulable"):
            wanted.append({"key": UNSCHEDULABLE, "effect": "NoSchedule"})
        taints = node.get("spec", {}).get("taints") or []
        ours = [t for t in taints if t.get("key") in _MANAGED]
        if {(t["key"], t["effect"]) for t in ours} == {(t["key"], t["effect"]) for t in wanted}:
            return node
        stamp = format_time(self.clock.now())
        kept = [t for t in taints if t.get("key") not in _MANAGED]
        existing = {(t["key"], t["effect"]): t for t in ours}
        for taint in wanted:
            previous = existing.get((taint["key"], taint["effect"]))
            if previous is not None:
                kept.append(previous)
            else:
                kept.append({**taint, "timeAdded": stamp} if taint["effect"] == "NoExecute" else taint)
        new = deep_copy(node)
        new.setdefault("spec", {})["taints"] = kept
        if not kept:
            del new["spec"]["taints"]
        return self.api.update(new, owned=True)

    def _evict(self, node: Obj) -> float | None:
        taints = [t for t in node.get("spec", {}).get("taints") or [] if t.get("effect") == "NoExecute"]
        if not taints:
            return None
        now = self.clock.now().timestamp()
        added = (
            min(parse_time(t["timeAdded"]).timestamp() for t in taints if t.get("timeAdded"))
            if any(t.get("timeAdded") for t in taints)
            else now
        )
        soonest: float | None = None
        for pod in self.api.pods_on_node(node["metadata"]["name"]):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            delay = no_execute_eviction_delay(pod, taints)
            if delay is None:
                continue
            remaining = added + delay - now
            if remaining <= 0:
                namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
                self.events.event(
                    pod,
                    EventType.NORMAL,
                    "TaintManagerEviction",
                    f"Marking for deletion Pod {namespace}/{name}",
                )
                try:
                    self.api.delete("pods", name, namespace=namespace)
                except NotFound:
                    continue
            else:
                soonest = remaining if soonest is None else min(soonest, remaining)
        return soonest + 0.1 if soonest is not None else None
