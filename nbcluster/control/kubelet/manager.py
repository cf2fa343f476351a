"""KubeletManager: every node's kubelet, on the control plane's loop. I/O through the runtime.

Like KWOK, one manager simulates many kubelets: ONE pod subscription dispatches by
``spec.nodeName`` to per-node :class:`~nbcluster.control.kubelet.records.Kubelet`
objects, ONE timer heap carries probes, backoffs, retries and heartbeats, and a pod is
synced by a short task only when something about it changed (a watch event, a
container exit reported by the runtime, a probe verdict, a timer). Nodes register as a
kubelet does (Node object with labels, capacity, conditions, addresses, nodeInfo,
podCIDR), renew their Lease every 10 s and refresh the Ready heartbeat every 60 s.
Watch listeners may run on any thread: they only queue work for the loop. Optional runtime
hooks: ``adopt_clock`` and ``set_node_pod_cidr`` (simulated), ``remove_leftovers``
(docker: what an earlier kubelet left for pods no longer bound to a node goes) and
``on_runtime_state`` (docker: the daemon stopped answering, or answers again; the nodes go
NotReady meanwhile and pods with containers wait for it, as kubelet's runtime check does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from nbcluster.control.events import EventRecorder, EventType
from nbcluster.control.kubelet.node import (
    LEASE_NAMESPACE,
    build_lease,
    build_node,
    format_micro_time,
    node_conditions,
    node_internal_ip,
    pod_cidr,
)
from nbcluster.control.kubelet.pod_worker import RETRY_SECONDS, PodSyncer
from nbcluster.control.kubelet.records import Kubelet, PodRecord
from nbcluster.control.kubelet.timers import TimerHandle, Timers
from nbcluster.errors import AlreadyExists, BadRequest, Conflict, NbClusterError, NotFound
from nbcluster.runtime.interface import ContainerState, ExecResult, Runtime
from nbcluster.store import WatchEvent
from nbcluster.util.clock import Clock, format_time

__all__ = ["KubeletManager"]


#: Consecutive syncs of one pod before its worker backs off (a sync that never settles).
MAX_SYNC_ROUNDS = 20
log = logging.getLogger("nbcluster.kubelet")

Obj = dict[str, Any]

LEASES = "leases.coordination.k8s.io"


class KubeletManager:
    """The kubelets of every node of one cluster (see the module docstring)."""

    #: Seconds between Lease renewals (kubelet: renewInterval = 0.25 * 40 s).
    lease_interval = 10.0
    #: Seconds between Ready heartbeats in the Node status.
    status_interval = 60.0

    def __init__(self, api: Any, clock: Clock, runtime: Runtime, *, record_events: bool = True) -> None:
        self.api = api
        self.clock = clock
        self.runtime = runtime
        self.record_events = record_events
        self.timers = Timers(clock)
        self.syncer = PodSyncer(api, clock, runtime, self.timers, self._kick)
        self._nodes: dict[str, Kubelet] = {}
        self._records: dict[str, PodRecord] = {}
        self._by_name: dict[tuple[str, str], str] = {}
        self._inbox: deque[tuple[str, Obj]] = deque()
        self._drain_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._unsubscribe: list[Any] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._heartbeat: TimerHandle | None = None
        self._exit_registered = False
        #: kubelet's runtimeState error while the runtime does not answer (node Ready=False)
        self.runtime_error: str | None = None
        self._started = False
        self._closing = False
        self._node_controller_events = EventRecorder(api, clock, "node-controller", enabled=record_events)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe (once, for all nodes), start the timer heap and the heartbeats."""
        if self._started:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closing = False
        self.timers.start()
        adopt_clock = getattr(self.runtime, "adopt_clock", None)
        if adopt_clock is not None:
            adopt_clock(self.clock)  # a simulated runtime made without a clock follows ours
        if not self._exit_registered:
            self.runtime.on_container_exit(self._on_exit)
            on_state = getattr(self.runtime, "on_runtime_state", None)
            if on_state is not None:
                on_state(self._on_runtime_state_threadsafe)
            self._exit_registered = True
        self._unsubscribe = [
            self.api.subscribe("pods", self._on_pod),
            self.api.subscribe("configmaps", self._on_dependency("configmaps")),
            self.api.subscribe("secrets", self._on_dependency("secrets")),
            self.api.subscribe("persistentvolumeclaims", self._on_dependency("persistentvolumeclaims")),
            self.api.subscribe("services", self._on_service),
        ]
        self._heartbeat = self.timers.call_later(self.lease_interval, self._beat)
        self._started = True
        for node in self._nodes.values():
            self._adopt(node)

    async def stop(self) -> None:
        """Stop every pod worker, remove every container and sandbox, stop the heartbeats."""
        self._closing = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.timers.stop()
        await self.syncer.probes.close()
        if self.syncer.instant:
            for rec in list(self._records.values()):
                await self._scrub(rec)
        else:  # a real runtime: every pod's containers are stopped at the same time
            await asyncio.gather(*(self._scrub(rec) for rec in list(self._records.values())))
        self._records.clear()
        self._by_name.clear()
        for node in self._nodes.values():
            node.records.clear()
        self._inbox.clear()
        self._started = False

    async def _scrub(self, rec: PodRecord) -> None:
        """Kill and remove everything the runtime holds for ``rec`` (no API writes)."""
        self.syncer.forget_backoffs(rec)
        self.syncer._drop_volume_refs(rec)
        for cr in rec.current.values():
            self.syncer.probes.stop(cr)
            if cr.status.state is not ContainerState.EXITED:
                with contextlib.suppress(NbClusterError):
                    await self.runtime.stop_container(cr.id, 0)
        for container_id in rec.container_ids():
            self.syncer.containers.pop(container_id, None)
            with contextlib.suppress(NbClusterError):
                await self.runtime.remove_container(container_id)
        if rec.sandbox is not None:
            sandbox, rec.sandbox = rec.sandbox, None
            with contextlib.suppress(NbClusterError):
                await self.runtime.remove_sandbox(sandbox.id)
        if rec.retry is not None:
            rec.retry.cancel()
            rec.retry = None
        self.syncer._unblock(rec)
        rec.current.clear()
        rec.previous.clear()

    # -- nodes ------------------------------------------------------------------------

    def node_names(self) -> list[str]:
        return list(self._nodes)

    def _node(self, name: str) -> Kubelet:
        node = self._nodes.get(name)
        if node is None:
            raise NotFound(f'nodes "{name}" not found')
        return node

    def _free_index(self) -> int:
        used = {node.index for node in self._nodes.values()}
        if self.api.store.count("nodes") > len(self._nodes):  # nodes we do not run hold CIDRs too
            for node in self.api.cached_list("nodes"):
                cidr = (node.get("spec") or {}).get("podCIDR")
                if cidr and node["metadata"]["name"] not in self._nodes:
                    index = _cidr_index(cidr)
                    if index is not None:
                        used.add(index)
        index = 0
        while index in used:
            index += 1
        return index

    async def add_node(
        self,
        name: str,
        *,
        capacity: dict[str, str] | None = None,
        labels: dict[str, Any] | None = None,
        taints: list[Obj] | None = None,
        control_plane: bool = False,
    ) -> None:
        """Register node ``name`` as its kubelet would, start its heartbeats, adopt its pods."""
        if name in self._nodes:
            raise AlreadyExists(f'nodes "{name}" already exists')
        if not self._started:
            await self.start()
        existing = self.api.cached("nodes", name)
        index = None
        if existing is not None and (existing.get("spec") or {}).get("podCIDR"):
            index = _cidr_index(existing["spec"]["podCIDR"])
        if index is None or any(n.index == index for n in self._nodes.values()):
            index = self._free_index()
        cidr = pod_cidr(index)
        node_capacity = dict(capacity) if capacity else self.runtime.node_capacity()
        now = self.clock.now()
        wanted = build_node(
            name,
            index=index,
            capacity=node_capacity,
            labels={k: str(v) for k, v in (labels or {}).items()},
            taints=taints,
            control_plane=control_plane,
            runtime_name=self.runtime.name,
            runtime_version=str(getattr(self.runtime, "version", "0.1.0")),
            os_image=str(getattr(self.runtime, "os_image", "Linux")),
            now=now,
            cidr=cidr,
        )
        if existing is None:
            stored = self.api.create(wanted, owned=True, validate_schema=False)
        else:
            stored = self._reregister(existing, wanted)
        kubelet = Kubelet(
            name,
            index,
            cidr,
            node_internal_ip(index),
            EventRecorder(self.api, self.clock, "kubelet", host=name, enabled=self.record_events),
        )
        kubelet.uid = stored["metadata"]["uid"]
        kubelet.allocatable = dict(stored["status"].get("allocatable") or node_capacity)
        kubelet.last_status_report = self.clock.monotonic()
        set_cidr = getattr(self.runtime, "set_node_pod_cidr", None)
        if set_cidr is not None:
            set_cidr(name, cidr)
        self._nodes[name] = kubelet
        self._renew_lease(kubelet, now)
        self._node_events(kubelet, stored, first=existing is None)
        self._adopt(kubelet)
        remove_leftovers = getattr(self.runtime, "remove_leftovers", None)
        if remove_leftovers is not None:
            # What an earlier kubelet left for pods no longer bound here goes; the others'
            # pods adopt theirs on their first sync.
            keep = {pod["metadata"]["uid"] for pod in self.api.pods_on_node(name)}
            try:
                await remove_leftovers(node=name, keep=keep)
            except NbClusterError as exc:
                log.info("removing leftovers of node %s: %s", name, exc)

    def _reregister(self, existing: Obj, wanted: Obj) -> Obj:
        """A Node object already exists (a restarted control plane): reconcile it."""
        node = dict(existing)
        meta = dict(existing["metadata"])
        meta["labels"] = {**(existing["metadata"].get("labels") or {}), **wanted["metadata"]["labels"]}
        meta["annotations"] = {
            **(existing["metadata"].get("annotations") or {}),
            **wanted["metadata"]["annotations"],
        }
        node["metadata"] = meta
        spec = dict(existing.get("spec") or {})
        spec.setdefault("podCIDR", wanted["spec"]["podCIDR"])
        spec.setdefault("podCIDRs", wanted["spec"]["podCIDRs"])
        if wanted["spec"].get("taints"):
            spec["taints"] = wanted["spec"]["taints"]
        node["spec"] = spec
        self.api.update(node, owned=True)
        status = dict(wanted["status"])
        status["conditions"] = node_conditions(
            format_time(self.clock.now()), (existing.get("status") or {}).get("conditions")
        )
        body = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": meta["name"]}, "status": status}
        return self.api.update_status(body, owned=True)

    def _node_ref(self, node: Kubelet) -> Obj:
        # kubelet's node events name the node with its name as uid.
        return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node.name, "uid": node.name}}

    def _node_events(self, node: Kubelet, stored: Obj, *, first: bool) -> None:
        ref = self._node_ref(node)
        events = node.recorder
        name = node.name
        events.event(ref, EventType.NORMAL, "Starting", "Starting kubelet.")
        for reason in ("NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"):
            events.event(ref, EventType.NORMAL, reason, f"Node {name} status is now: {reason}")
        events.event(
            ref, EventType.NORMAL, "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods"
        )
        if first:
            self._node_controller_events.event(
                stored,
                EventType.NORMAL,
                "RegisteredNode",
                f"Node {name} event: Registered Node {name} in Controller",
            )
        events.event(ref, EventType.NORMAL, "NodeReady", f"Node {name} status is now: NodeReady")

    async def remove_node(self, name: str) -> None:
        """Stop the node's kubelet, remove its containers and delete its Node and Lease."""
        node = self._node(name)
        node.stopped = True
        for rec in list(node.records.values()):
            await self._scrub(rec)
            rec.finalized = True
            self._forget(rec)
        del self._nodes[name]
        for resource, namespace in ((LEASES, LEASE_NAMESPACE), ("nodes", None)):
            with contextlib.suppress(NotFound):
                self.api.delete(resource, name, namespace=namespace)

    async def stop_node(self, name: str) -> None:
        """The node goes silent: no more heartbeats or status writes; its containers stop."""
        node = self._node(name)
        if node.stopped:
            return
        node.stopped = True
        for rec in node.records.values():
            if rec.retry is not None:
                rec.retry.cancel()
                rec.retry = None
            for cr in rec.current.values():
                self.syncer.probes.stop(cr)
                if cr.status.state is not ContainerState.EXITED:
                    try:
                        await self.runtime.stop_container(cr.id, 0)
                        cr.status = await self.runtime.container_status(cr.id)
                    except NbClusterError:
                        pass
            if rec.sandbox is not None:
                sandbox, rec.sandbox = rec.sandbox, None
                with contextlib.suppress(NbClusterError):
                    await self.runtime.remove_sandbox(sandbox.id)

    async def start_node(self, name: str) -> None:
        """The node's kubelet comes back: Ready again, heartbeats resume, pods re-synced."""
        node = self._node(name)
        if not node.stopped:
            return
        node.stopped = False
        now = self.clock.now()
        self._renew_lease(node, now)
        ref = self._node_ref(node)
        node.recorder.event(ref, EventType.NORMAL, "Starting", "Starting kubelet.")
        self._post_node_status(node, now)
        bound = {pod["metadata"]["uid"]: pod for pod in self.api.pods_on_node(name)}
        for rec in list(node.records.values()):
            if rec.uid not in bound:
                rec.pod = None
            self._kick(rec)
        for pod in bound.values():
            self._dispatch("MODIFIED", pod)

    def _adopt(self, node: Kubelet) -> None:
        for pod in self.api.pods_on_node(node.name):
            self._dispatch("ADDED", pod)

    # -- heartbeats (one timer for every node) ------------------------------------------------

    def _beat(self) -> None:
        now = self.clock.now()
        mono = self.clock.monotonic()
        for node in list(self._nodes.values()):
            if node.stopped:
                continue
            try:
                self._renew_lease(node, now)
                if mono - node.last_status_report >= self.status_interval - 1e-6:
                    self._post_node_status(node, now)
            except NbClusterError as exc:
                log.info("heartbeat of node %s: %s", node.name, exc)
        if not self._closing:
            self._heartbeat = self.timers.call_later(self.lease_interval, self._beat)

    def _renew_lease(self, node: Kubelet, now: Any) -> None:
        lease = self.api.cached(LEASES, node.name, LEASE_NAMESPACE)
        if lease is None:
            self.api.create(build_lease(node.name, node.uid, now), owned=True, validate_schema=False)
            return
        new = dict(lease)
        new["metadata"] = dict(lease["metadata"])
        new["spec"] = dict(
            lease.get("spec") or {},
            holderIdentity=node.name,
            leaseDurationSeconds=40,
            renewTime=format_micro_time(now),
        )
        self.api.update(new, owned=True)

    def _post_node_status(self, node: Kubelet, now: Any) -> None:
        current = self.api.cached("nodes", node.name)
        if current is None:
            return
        status = dict(current.get("status") or {})
        old = status.get("conditions") or []
        was_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in old)
        ours = node_conditions(format_time(now), old, self.runtime_error)
        kinds = {c["type"] for c in ours}
        status["conditions"] = ours + [c for c in old if c.get("type") not in kinds]
        self.api.update_status(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node.name}, "status": status},
            owned=True,
        )
        node.last_status_report = self.clock.monotonic()
        if self.runtime_error is not None:
            if was_ready:
                node.recorder.event(
                    self._node_ref(node),
                    EventType.NORMAL,
                    "NodeNotReady",
                    f"Node {node.name} status is now: NodeNotReady",
                )
        elif not was_ready:
            node.recorder.event(
                self._node_ref(node),
                EventType.NORMAL,
                "NodeReady",
                f"Node {node.name} status is now: NodeReady",
            )

    # -- the runtime going away and coming back ------------------------------------------

    def _on_runtime_state_threadsafe(self, reason: str | None, message: str) -> None:
        self._call_on_loop(self._on_runtime_state, reason, message)

    def _on_runtime_state(self, reason: str | None, message: str) -> None:
        """The runtime stopped answering (``reason`` set) or answers again (None).

        Down: every node posts Ready=False (KubeletNotReady, kubelet's "container runtime not
        ready: ..." wording), probes pause, and pods that have containers are not synced
        (kubelet's "Skipping pod synchronization"); a new pod still tries, so its events say
        why it cannot start. Back: nodes Ready again and every pod is synced, which restarts
        what the outage killed per restartPolicy.
        """
        if self._closing:
            return
        error = (
            None
            if reason is None
            else f"container runtime not ready: RuntimeReady=false reason:{reason} message:{message}"
        )
        if error == self.runtime_error:
            return
        self.runtime_error = error
        self.syncer.probes.suspended = error is not None
        if error is not None:
            log.warning("the container runtime is down: %s", error)
        else:
            log.warning("the container runtime is ready again: syncing every pod")
        now = self.clock.now()
        for node in self._nodes.values():
            if node.stopped:
                continue
            try:
                self._post_node_status(node, now)
            except NbClusterError as exc:
                log.info("posting the status of node %s: %s", node.name, exc)
        if error is None:
            for rec in list(self._records.values()):
                self._kick(rec)

    # -- watch listeners (any thread) and dispatch (the loop) ---------------------------------------

    def _call_on_loop(self, fn: Any, *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            loop.call_soon(fn, *args)
        else:
            with contextlib.suppress(RuntimeError):  # a closed loop: we are shutting down
                loop.call_soon_threadsafe(fn, *args)

    def _on_pod(self, event: WatchEvent) -> None:
        obj = event.object
        meta = obj["metadata"]
        if event.type == "MODIFIED":
            old = event.old
            if old is not None and old["spec"] is obj["spec"]:
                old_meta = old["metadata"]
                if old_meta.get("deletionTimestamp") == meta.get("deletionTimestamp") and old_meta.get(
                    "deletionGracePeriodSeconds"
                ) == meta.get("deletionGracePeriodSeconds"):
                    # A status (or label) change: remember the newest object, nothing to do.
                    rec = self._records.get(meta.get("uid", ""))
                    if rec is not None and rec.pod is not None:
                        rec.pod = obj
                    return
        if obj["spec"].get("nodeName") not in self._nodes and meta.get("uid") not in self._records:
            return
        self._inbox.append((event.type, obj))
        if not self._drain_scheduled:
            self._drain_scheduled = True
            self._call_on_loop(self._drain)

    def _drain(self) -> None:
        self._drain_scheduled = False
        inbox = self._inbox
        while inbox:
            kind, obj = inbox.popleft()
            self._dispatch(kind, obj)

    def _dispatch(self, kind: str, obj: Obj) -> None:
        meta = obj["metadata"]
        uid = meta["uid"]
        rec = self._records.get(uid)
        if kind == "DELETED":
            if rec is not None:
                rec.pod = None
                self._kick(rec)
            return
        if rec is None:
            node = self._nodes.get(obj["spec"].get("nodeName") or "")
            if node is None:
                return
            rec = PodRecord(obj, node)
            self._records[uid] = rec
            node.records[uid] = rec
            self._by_name[(rec.namespace, rec.name)] = uid
        else:
            rec.pod = obj
            if rec.finalized:
                return
        self._kick(rec)

    def _kick(self, rec: PodRecord) -> None:
        """Sync ``rec`` soon (on the loop); a sync in progress runs once more."""
        rec.dirty = True
        if rec.running or rec.node.stopped or self._closing or self._loop is None:
            return
        rec.running = True
        task = self._loop.create_task(self._run(rec))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, rec: PodRecord) -> None:
        rounds = 0
        try:
            while rec.dirty and not rec.node.stopped and not self._closing:
                if self.runtime_error is not None and (rec.sandbox is not None or rec.current):
                    # Nothing of a running pod can be read or changed: synced when it is back.
                    break
                rec.dirty = False
                rounds += 1
                if rounds > 1:
                    # Our own status write re-dirties the record: give every other pod,
                    # controller and the scheduler a turn before syncing it again.
                    await asyncio.sleep(0)
                if rounds > MAX_SYNC_ROUNDS:
                    log.warning("pod %s keeps changing under its own sync; looking again later", rec.key)
                    self.syncer._retry_at(rec, RETRY_SECONDS)
                    break
                try:
                    await self.syncer.sync(rec)
                except Conflict:
                    rec.dirty = True
                    await asyncio.sleep(0)
                except NbClusterError as exc:
                    log.info("syncing pod %s: %s (retrying)", rec.key, exc)
                    self.syncer._retry_at(rec, RETRY_SECONDS)
                except Exception:
                    log.exception("syncing pod %s failed (retrying)", rec.key)
                    self.syncer._retry_at(rec, RETRY_SECONDS)
        finally:
            rec.running = False
        if rec.finalized and rec.pod is None:
            self._forget(rec)

    def _forget(self, rec: PodRecord) -> None:
        self._records.pop(rec.uid, None)
        rec.node.records.pop(rec.uid, None)
        if self._by_name.get((rec.namespace, rec.name)) == rec.uid:
            del self._by_name[(rec.namespace, rec.name)]

    def _on_exit(self, container_id: str) -> None:
        rec = self.syncer.containers.get(container_id)
        if rec is None:
            return
        rec.stale = True
        if threading.get_ident() == self._loop_thread:
            self._kick(rec)
        else:
            self._call_on_loop(self._kick, rec)

    def _on_dependency(self, resource: str) -> Any:
        def listener(event: WatchEvent) -> None:
            if event.type == "DELETED" or not (self.syncer.blocked or self.syncer.volume_refs):
                return
            meta = event.object["metadata"]
            key = (resource, meta.get("namespace", ""), meta["name"])
            if key in self.syncer.blocked:
                self._call_on_loop(self.syncer.object_changed, *key)
            if key in self.syncer.volume_refs:
                self._call_on_loop(self.syncer.volumes_changed, *key)

        return listener

    def _on_service(self, event: WatchEvent) -> None:
        self.syncer.invalidate_services()

    # -- logs and exec -------------------------------------------------------------------------

    def _record(self, namespace: str, pod: str) -> PodRecord:
        uid = self._by_name.get((namespace, pod))
        rec = self._records.get(uid) if uid else None
        if rec is None or rec.pod is None:
            if self.api.cached("pods", pod, namespace) is None:
                raise NotFound(f'pods "{pod}" not found')
            raise BadRequest(f'pod "{pod}" is not running on any node of this cluster yet')
        return rec

    def _container_name(self, rec: PodRecord, container: str | None) -> tuple[str, bool]:
        assert rec.pod is not None
        spec = rec.pod["spec"]
        names = [c["name"] for c in spec.get("containers") or ()]
        init_names = [c["name"] for c in spec.get("initContainers") or ()]
        if not container:
            default = (rec.pod["metadata"].get("annotations") or {}).get(
                "kubectl.kubernetes.io/default-container"
            )
            container = default if default in names else names[0]
        if container not in names and container not in init_names:
            raise BadRequest(f"container {container} is not valid for pod {rec.name}")
        return container, container in init_names

    async def logs(
        self,
        namespace: str,
        pod: str,
        container: str | None = None,
        *,
        previous: bool = False,
        tail: int | None = None,
    ) -> str:
        """What ``kubectl logs`` shows for one container (``previous``: the instance before)."""
        rec = self._record(namespace, pod)
        name, _init = self._container_name(rec, container)
        if previous:
            status = rec.previous.get(name)
            if status is None:
                raise BadRequest(f'previous terminated container "{name}" in pod "{pod}" not found')
            return await self.runtime.logs(status.id, tail=tail)
        cr = rec.current.get(name)
        if cr is None:
            reason = rec.reasons.get(name, ("ContainerCreating", ""))[0]
            raise BadRequest(f'container "{name}" in pod "{pod}" is waiting to start: {reason}')
        return await self.runtime.logs(cr.id, tail=tail)

    async def follow_logs(
        self, namespace: str, pod: str, container: str | None = None, *, tail: int | None = None
    ) -> AsyncIterator[str]:
        """``kubectl logs -f``: lines (without their newline) of the container's current
        instance, from the runtime's stream: the existing ones (the last ``tail``), then each
        as it is written; ends when that instance has exited, or when the caller stops
        iterating (closing or cancelling releases the runtime's stream)."""
        rec = self._record(namespace, pod)
        name, _init = self._container_name(rec, container)
        cr = rec.current.get(name)
        if cr is None:
            reason = rec.reasons.get(name, ("ContainerCreating", ""))[0]
            raise BadRequest(f'container "{name}" in pod "{pod}" is waiting to start: {reason}')
        pending = ""
        stream = self.runtime.stream_logs(cr.id, tail=tail)
        try:
            async for chunk in stream:
                pending += chunk
                *lines, pending = pending.split("\n")
                for line in lines:
                    yield line.removesuffix("\r")
        finally:
            close = getattr(stream, "aclose", None)  # an async generator: release it now
            if close is not None:
                await close()
        if pending:
            yield pending.removesuffix("\r")

    def container_id(self, namespace: str, pod: str, container: str | None = None) -> str | None:
        """The runtime id of the container's current instance (None before it was created)."""
        rec = self._record(namespace, pod)
        name, _init = self._container_name(rec, container)
        cr = rec.current.get(name)
        return cr.id if cr is not None else None

    def endpoint_address(
        self, namespace: str, pod: str, port: int, protocol: str = "TCP"
    ) -> tuple[str, int] | None:
        """Where this machine reaches ``port`` of a running pod (kube-proxy and port-forward).

        127.0.0.1 and the host port the pod's sandbox publishes (a ``hostNetwork`` pod: the
        port itself); None when the pod has no sandbox here, its node is stopped, the port is
        not published, or the runtime runs no real processes (simulated: nothing to reach).
        """
        if getattr(self.runtime, "instant", False):
            return None
        uid = self._by_name.get((namespace, pod))
        rec = self._records.get(uid) if uid else None
        if rec is None or rec.sandbox is None or rec.node.stopped:
            return None
        if rec.pod is not None and rec.pod["spec"].get("hostNetwork"):
            return ("127.0.0.1", port)
        host_port = rec.sandbox.host_ports.get((port, protocol))
        return ("127.0.0.1", host_port) if host_port else None

    async def exec(self, namespace: str, pod: str, container: str | None, command: list[str]) -> ExecResult:
        """Run ``command`` in a running container (``kubectl exec``)."""
        rec = self._record(namespace, pod)
        name, _init = self._container_name(rec, container)
        cr = rec.current.get(name)
        if cr is None or not cr.running or rec.node.stopped:
            raise BadRequest(f'unable to upgrade connection: container not found ("{name}")')
        return await self.runtime.exec(cr.id, list(command))


def _cidr_index(cidr: str) -> int | None:
    address = cidr.split("/", 1)[0]
    try:
        a, b, c, _d = (int(part) for part in address.split("."))
    except ValueError:
        return None
    value = ((a << 16) | (b << 8) | c) - ((10 << 16) | (244 << 8))
    return value if value >= 0 else None
