"""The doing half of the kubelet: sync one pod through the runtime and write its status.

``PodSyncer.sync(record)`` is kubelet's SyncPod for one pod: wait for volumes, compute the
actions (:func:`~nbcluster.control.kubelet.actions.compute_pod_actions`), perform them —
sandbox, init containers one at a time, app containers, kills — each container start
going through restart backoff, image pull (with its own backoff), configuration
(environment) and create/start with kubelet's events; then build the status and write
it once, only when it changed. Deletion (``terminate``) runs preStop hooks, stops the
containers within the grace period, removes sandbox and containers and finalizes the
pod with a zero-grace delete. I/O goes through the runtime and the API server, plus the
volume files of :mod:`~nbcluster.control.kubelet.volumes` for runtimes with a pod folder.

Optional runtime hooks, used when a runtime has them: ``instant`` (no call ever waits:
the simulated runtime), ``image_pull_stats(image)`` (the Pulled event's numbers),
``scripted_probe_result`` (simulated probes), ``pod_dir(uid)`` (where volume files go),
``sandbox_ready(id)`` (a dead pause container means a new sandbox), ``adopt_pod(uid)``
(containers an earlier kubelet left) and ``release_pod(uid)`` (the pod is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from nbcluster.api.quantities import cpu_millis, memory_bytes
from nbcluster.control.events import EventType
from nbcluster.control.kubelet.actions import (
    EXITED,
    RUNNING,
    UNKNOWN,
    ObservedContainer,
    ObservedPod,
    PodActions,
    compute_pod_actions,
)
from nbcluster.control.kubelet.backoff import Backoff, format_duration
from nbcluster.control.kubelet.envvars import EnvError, expand_command, make_environment, service_env
from nbcluster.control.kubelet.probes import ProbeManager, resolve_port
from nbcluster.control.kubelet.records import ContainerRecord, PodRecord, field_path
from nbcluster.control.kubelet.status import container_status, get_phase, pod_conditions, terminated_unknown
from nbcluster.control.kubelet.timers import Timers
from nbcluster.control.kubelet.volumes import (
    FILE_VOLUME_KINDS,
    VolumeError,
    referenced_objects,
    volume_files,
    write_volume,
)
from nbcluster.errors import Conflict, NbClusterError, NotFound
from nbcluster.runtime.interface import (
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    ImagePullError,
    Mount,
    PodSandboxConfig,
    Runtime,
)
from nbcluster.util.clock import Clock, format_time, parse_time

__all__ = ["CONTAINER_TYPE_HINT", "RESTART_POLICY_HINT", "PodSyncer", "default_pull_policy"]

log = logging.getLogger("nbcluster.kubelet")

Obj = dict[str, Any]

#: Hints the kubelet adds to ContainerConfig.annotations (the simulated runtime reads them).
RESTART_POLICY_HINT = "nbcluster.io/restart-policy"
CONTAINER_TYPE_HINT = "nbcluster.io/container-type"

#: kubelet's minimumGracePeriodInSeconds.
MIN_GRACE_SECONDS = 2
#: How long the kubelet waits before retrying a pod whose sync failed (backOffPeriod).
RETRY_SECONDS = 10.0
#: kubelet's WaitForAttachAndMount timeout before it reports unmountable volumes.
VOLUME_WAIT_REPORT_SECONDS = 123.0

_TERMINAL = ("Succeeded", "Failed")

DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


def default_pull_policy(image: str) -> str:
    """The API's default: Always for ``:latest`` or untagged images, else IfNotPresent."""
    name = image.split("@", 1)[0]
    if "@" in image:
        return "IfNotPresent"
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _add_probe_ports(spec: Obj, ports: list[tuple[int, str]]) -> None:
    """Add the TCP ports probes and lifecycle hooks use: a real runtime publishes the pod's
    ports on 127.0.0.1 and the kubelet reaches the pod through them (never the bridge)."""
    seen = set(ports)
    for container in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]:
        handlers = [container.get(key) or {} for key in ("startupProbe", "livenessProbe", "readinessProbe")]
        lifecycle = container.get("lifecycle") or {}
        handlers += [lifecycle.get("postStart") or {}, lifecycle.get("preStop") or {}]
        for handler in handlers:
            for key in ("httpGet", "tcpSocket", "grpc"):
                if handler.get(key) is None:
                    continue
                try:
                    port = (resolve_port(container, handler[key].get("port")), "TCP")
                except NbClusterError:
                    continue
                if port[0] > 0 and port not in seen:
                    seen.add(port)
                    ports.append(port)


def _kind(container: Obj, init: bool) -> str:
    if not init:
        return "regular"
    return "sidecar" if container.get("restartPolicy") == "Always" else "init"


#: resolv.conf options of ClusterFirst pods: names with fewer dots try the search list first.
CLUSTER_FIRST_OPTIONS = ("ndots:5",)


class PodSyncer:
    """Syncs pods of every node through one runtime (the shared half of all kubelets)."""

    def __init__(
        self, api: Any, clock: Clock, runtime: Runtime, timers: Timers, kick: Callable[[PodRecord], None]
    ) -> None:
        self.api = api
        self.clock = clock
        self.runtime = runtime
        self.timers = timers
        self.kick = kick
        self.instant = bool(getattr(runtime, "instant", False))
        self.runtime_name = runtime.name
        self.restart_backoff = Backoff(10.0, 300.0)
        self.image_backoff = Backoff(10.0, 300.0)
        self.volume_backoff = Backoff(0.5, 122.0)
        self.probes = ProbeManager(runtime, clock, timers, kick)
        #: container id -> the pod record that owns it (exit callbacks)
        self.containers: dict[str, PodRecord] = {}
        #: (resource, namespace, name) -> uids of pods waiting for that object
        self.blocked: dict[tuple[str, str, str], dict[str, PodRecord]] = {}
        self._service_env: dict[tuple[str, bool], dict[str, str]] = {}
        self._pull_stats = getattr(runtime, "image_pull_stats", None)
        # Optional runtime hooks (the docker runtime has them; the simulated one does not).
        self._pod_dir = getattr(runtime, "pod_dir", None)
        self._sandbox_alive = getattr(runtime, "sandbox_ready", None)
        self._adopt = getattr(runtime, "adopt_pod", None)
        self._release_pod = getattr(runtime, "release_pod", None)
        #: (resource, namespace, name) -> pods whose volume files come from that object
        self.volume_refs: dict[tuple[str, str, str], dict[str, PodRecord]] = {}
        self._volume_tasks: set[asyncio.Task[Any]] = set()
        self._stamp_second = -1
        self._stamp_text = ""
        self._sync_now: datetime | None = None
        self._search: dict[str, tuple[str, ...]] = {}

    # -- small helpers -----------------------------------------------------------

    def _now(self) -> datetime:
        """The clock's time; read once per sync on an instant runtime (nothing waits there)."""
        now = self._sync_now
        if now is None:
            now = self.clock.now()
            if self.instant:
                self._sync_now = now
        return now

    def _wall(self) -> float:
        return self._now().timestamp()

    def _stamp(self) -> str:
        """``format_time(clock.now())``, formatted once per clock second."""
        now = self._now()
        second = int(now.timestamp())
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp_text = format_time(now)
        return self._stamp_text

    def _event(
        self,
        rec: PodRecord,
        pod: Obj,
        kind: EventType,
        reason: str,
        message: str,
        container: ContainerRecord | Obj | None = None,
        container_kind: str = "regular",
    ) -> None:
        if not rec.node.recorder.enabled:
            return
        path = None
        if isinstance(container, ContainerRecord):
            path = field_path(container.kind, container.name)
        elif container is not None:
            path = field_path(container_kind, container["name"])
        rec.node.recorder.event(pod, kind, reason, message, field_path=path)

    def _retry_at(self, rec: PodRecord, delay: float) -> None:
        """Sync ``rec`` again after ``delay`` seconds (the earliest wins)."""
        due = self.clock.monotonic() + max(0.0, delay)
        if rec.retry is not None and not rec.retry.cancelled and rec.retry.when <= due:
            return
        if rec.retry is not None:
            rec.retry.cancel()
        rec.retry = self.timers.call_at(due, self._retry_fire, rec)

    def _retry_fire(self, rec: PodRecord) -> None:
        rec.retry = None
        self.kick(rec)

    def invalidate_services(self) -> None:
        self._service_env.clear()

    def _services(self, namespace: str, links: bool) -> dict[str, str]:
        key = (namespace if links else "", links)
        cached = self._service_env.get(key)
        if cached is None:
            services: list[Obj] = []
            master = self.api.cached("services", "kubernetes", "default")
            if master is not None:
                services.append(master)
            if links:
                services.extend(
                    s
                    for s in self.api.cached_list("services", namespace)
                    if not (namespace == "default" and s["metadata"]["name"] == "kubernetes")
                )
            cached = self._service_env[key] = service_env(services)
        return cached

    def _dns_search(self, namespace: str) -> tuple[str, ...]:
        search = self._search.get(namespace)
        if search is None:
            search = self._search[namespace] = (
                f"{namespace}.svc.cluster.local",
                "svc.cluster.local",
                "cluster.local",
            )
        return search

    def _dns_config(
        self, namespace: str, spec: Obj
    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(search, options, nameservers) of the pod's resolv.conf, as dnsPolicy/dnsConfig say."""
        policy = spec.get("dnsPolicy") or "ClusterFirst"
        if spec.get("hostNetwork") and policy == "ClusterFirst":
            policy = "Default"  # ClusterFirst on the host network falls back to the node's DNS
        search: tuple[str, ...] = ()
        options: tuple[str, ...] = ()
        if policy in ("ClusterFirst", "ClusterFirstWithHostNet"):
            search, options = self._dns_search(namespace), CLUSTER_FIRST_OPTIONS
        config = spec.get("dnsConfig")
        if config:
            search = tuple(dict.fromkeys((*search, *(config.get("searches") or ()))))
            named = {option.split(":")[0]: option for option in options}
            for option in config.get("options") or ():
                value = option.get("value")
                named[option["name"]] = f"{option['name']}:{value}" if value is not None else option["name"]
            options = tuple(named.values())
        servers = tuple((config or {}).get("nameservers") or ())
        return search, options, servers

    def _dns_names(self, namespace: str, meta: Obj, spec: Obj) -> tuple[str, ...]:
        """Names other pods resolve to this pod: ``HOSTNAME.SUBDOMAIN.NS.svc.cluster.local``
        and the headless Services that select it (only runtimes with a cluster network)."""
        if not getattr(self.runtime, "cluster_dns", False) or spec.get("hostNetwork"):
            return ()
        names = []
        if spec.get("subdomain"):
            hostname = spec.get("hostname") or meta["name"]
            names.append(f"{hostname}.{spec['subdomain']}.{namespace}.svc.cluster.local")
        labels = meta.get("labels") or {}
        for svc in self.api.cached_list("services", namespace):
            svc_spec = svc.get("spec") or {}
            selector = svc_spec.get("selector")
            if svc_spec.get("clusterIP") != "None" or not selector:
                continue
            if all(labels.get(key) == value for key, value in selector.items()):
                names.append(f"{svc['metadata']['name']}.{namespace}.svc.cluster.local")
        return tuple(names)

    def _block(self, rec: PodRecord, resource: str, name: str) -> None:
        rec.blocked.add((resource, name))
        self.blocked.setdefault((resource, rec.namespace, name), {})[rec.uid] = rec

    def _unblock(self, rec: PodRecord) -> None:
        for resource, name in rec.blocked:
            waiting = self.blocked.get((resource, rec.namespace, name))
            if waiting is not None:
                waiting.pop(rec.uid, None)
                if not waiting:
                    del self.blocked[(resource, rec.namespace, name)]
        rec.blocked.clear()

    def object_changed(self, resource: str, namespace: str, name: str) -> None:
        """A ConfigMap / Secret / PVC appeared or changed: retry the pods waiting for it."""
        waiting = self.blocked.pop((resource, namespace, name), None)
        for rec in (waiting or {}).values():
            rec.blocked.discard((resource, name))
            self.kick(rec)

    # -- observing ------------------------------------------------------------------

    async def refresh(self, rec: PodRecord) -> None:
        """Re-read the runtime status of containers that may have exited."""
        rec.stale = False
        for cr in list(rec.current.values()):
            if cr.status.state is ContainerState.EXITED:
                continue
            try:
                cr.status = await self.runtime.container_status(cr.id)
            except NotFound:
                cr.status = ContainerStatus(
                    id=cr.id,
                    name=cr.name,
                    state=ContainerState.UNKNOWN,
                    image=cr.status.image,
                    image_id=cr.status.image_id,
                    started_at=cr.status.started_at,
                )
            if cr.status.state is not ContainerState.RUNNING:
                self.probes.stop(cr)

    def observe(self, rec: PodRecord) -> ObservedPod:
        containers: dict[str, ObservedContainer] = {}
        for name, cr in rec.current.items():
            st = cr.status
            state = (
                RUNNING
                if st.state is ContainerState.RUNNING
                else EXITED
                if st.state is ContainerState.EXITED
                else "created"
                if st.state is ContainerState.CREATED
                else UNKNOWN
            )
            last = st if state == EXITED else rec.previous.get(name)
            finished = last.finished_at.timestamp() if last is not None and last.finished_at else None
            containers[name] = ObservedContainer(
                name=name,
                id=cr.id,
                state=state,
                exit_code=st.exit_code,
                reason=st.reason,
                spec=cr.spec,
                liveness=cr.liveness,
                startup=cr.startup,
                last_finished=finished,
            )
        sandbox_ready = rec.sandbox is not None
        if rec.sandbox is not None and self._sandbox_alive is not None:
            sandbox_ready = bool(self._sandbox_alive(rec.sandbox.id))
        return ObservedPod(
            sandbox_ready=sandbox_ready, sandbox_attempts=rec.sandbox_attempts, containers=containers
        )

    # -- the sync -------------------------------------------------------------------

    async def sync(self, rec: PodRecord) -> None:
        self._sync_now = None
        try:
            await self._sync(rec)
        finally:
            self._sync_now = None

    async def _sync(self, rec: PodRecord) -> None:
        if rec.node.stopped or rec.finalized:
            return
        pod = rec.pod
        if pod is None:
            await self.cleanup(rec)
            return
        if self._adopt is not None and rec.sandbox is None and not rec.current and not rec.previous:
            # Before anything else: a terminating or finished pod adopts its leftovers too
            # (to stop them, or to keep their logs); no I/O when the runtime has none.
            await self._adopt_leftovers(rec, pod)
        if rec.stale:
            await self.refresh(rec)
        if pod["metadata"].get("deletionTimestamp"):
            await self.terminate(rec)
            return
        if rec.terminal:
            return
        status = pod.get("status") or {}
        if status.get("phase") in _TERMINAL and not rec.current and rec.sandbox is None:
            rec.terminal = True  # adopted after it finished: nothing to run
            return
        if rec.start_time is None:
            rec.start_time = status.get("startTime") or self._stamp()
        if self._past_deadline(rec, pod):
            self._event(rec, pod, EventType.NORMAL, "DeadlineExceeded", DEADLINE_MESSAGE)
            await self.kill_pod(rec, pod)
            await self.write_status(rec, failed=("DeadlineExceeded", DEADLINE_MESSAGE))
            if rec.terminal:
                await self._release(rec)
            return
        self._unblock(rec)
        if not self._volumes_ready(rec, pod):
            await self.write_status(rec)
            return
        spec = pod["spec"]
        for _round in range(len(spec.get("initContainers") or ()) + 3):
            pod = rec.pod
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                rec.dirty = True
                return
            observed = self.observe(rec)
            actions = compute_pod_actions(pod, observed)
            if actions.is_noop():
                break
            if not self.instant and actions.create_sandbox:
                await self.write_status(rec)  # show ContainerCreating while a real runtime works
            elif self._restarts_exited(pod, observed, actions):
                # kubelet writes the status it saw before acting (SyncPod), so an exit shows
                # (Error, Init:Error) before the restart replaces it.
                await self.write_status(rec)
            if not await self.apply(rec, pod, actions, observed):
                break
            if not actions.init_containers_to_start:
                break  # only an init container (a sidecar) can make more work follow at once
        await self.write_status(rec)
        if rec.terminal:
            await self._release(rec)

    @staticmethod
    def _restarts_exited(pod: Obj, observed: ObservedPod, actions: PodActions) -> bool:
        """Whether ``actions`` start again a container whose latest instance exited."""
        spec = pod["spec"]
        names = [(spec.get("initContainers") or [])[i]["name"] for i in actions.init_containers_to_start]
        names += [(spec.get("containers") or [])[i]["name"] for i in actions.containers_to_start]
        for name in names:
            seen = observed.containers.get(name)
            if seen is not None and seen.state == EXITED:
                return True
        return False

    def _past_deadline(self, rec: PodRecord, pod: Obj) -> bool:
        """``spec.activeDeadlineSeconds`` counted from startTime; arms a timer until then."""
        deadline = pod["spec"].get("activeDeadlineSeconds")
        if deadline is None or not rec.start_time:
            return False
        left = parse_time(rec.start_time).timestamp() + float(deadline) - self._wall()
        if left <= 0:
            return True
        self._retry_at(rec, left)
        return False

    async def apply(
        self, rec: PodRecord, pod: Obj, actions: PodActions, observed: ObservedPod | None = None
    ) -> bool:
        """Perform ``actions``; True when anything changed (worth computing again)."""
        if observed is None:
            observed = self.observe(rec)
        progressed = False
        blocked = False
        if actions.kill_pod:
            if rec.sandbox is not None or rec.current:
                progressed = await self.kill_pod(rec, pod)
            if not actions.create_sandbox:
                return progressed
        if actions.create_sandbox:
            if not await self._create_sandbox(rec, pod):
                return False
            progressed = True
        probe_killed: list[str] = []
        for container_id, info in actions.containers_to_kill.items():
            cr = rec.current.get(info.name)
            if cr is not None and cr.id == container_id and cr.status.state is not ContainerState.EXITED:
                grace = None
                if info.reason:
                    probe = cr.spec.get(f"{info.reason}Probe") or {}
                    if probe.get("terminationGracePeriodSeconds") is not None:
                        grace = int(probe["terminationGracePeriodSeconds"])
                await self.kill_container(rec, pod, cr, info.message, grace=grace)
                progressed = True
                if info.reason:
                    probe_killed.append(info.name)
        if probe_killed:
            # The restart of a container a probe killed backs off from that kill. Kubelet's
            # doBackOff reads the pre-kill status (still running) and skips the back-off
            # (kubernetes#22240, #99697); restarts go 10 s, 20 s, 40 s ... as for a crash.
            fresh = self.observe(rec).containers
            containers = dict(observed.containers)
            containers.update({name: fresh[name] for name in probe_killed if name in fresh})
            observed = replace(observed, containers=containers)
        if (actions.init_containers_to_start or actions.containers_to_start) and self._pod_dir is not None:
            error = await self._write_volumes(rec, pod)
            if error is not None:
                self._event(rec, pod, EventType.WARNING, "FailedMount", error)
                self._retry_at(rec, RETRY_SECONDS)
                return False
        init_containers = pod["spec"].get("initContainers") or []
        for index in actions.init_containers_to_start:
            container = init_containers[index]
            kind = _kind(container, True)
            if await self.start_container(rec, pod, container, kind, observed):
                progressed = True
            elif kind == "init":
                return False
            else:
                blocked = True
        containers = pod["spec"].get("containers") or []
        for index in actions.containers_to_start:
            if await self.start_container(rec, pod, containers[index], "regular", observed):
                progressed = True
            else:
                blocked = True
        # A start that failed (backoff, image, config) is retried by a timer, not at once.
        return progressed and not blocked

    # -- volumes -----------------------------------------------------------------------

    def _volumes_ready(self, rec: PodRecord, pod: Obj) -> bool:
        volumes = pod["spec"].get("volumes")
        if not volumes:
            return True
        ns = rec.namespace
        mount_errors: list[tuple[str, str]] = []
        claims: list[tuple[str, str, str]] = []
        for volume in volumes:
            vname = volume.get("name", "")
            if volume.get("configMap") is not None:
                ref = volume["configMap"]
                if not ref.get("optional") and self.api.cached("configmaps", ref.get("name", ""), ns) is None:
                    mount_errors.append((vname, f'configmap "{ref.get("name", "")}" not found'))
                    self._block(rec, "configmaps", ref.get("name", ""))
            elif volume.get("secret") is not None:
                ref = volume["secret"]
                name = ref.get("secretName", "")
                if not ref.get("optional") and self.api.cached("secrets", name, ns) is None:
                    mount_errors.append((vname, f'secret "{name}" not found'))
                    self._block(rec, "secrets", name)
            elif volume.get("projected") is not None:
                for source in volume["projected"].get("sources") or ():
                    for key, resource in (("configMap", "configmaps"), ("secret", "secrets")):
                        ref = source.get(key)
                        if ref is None or ref.get("optional"):
                            continue
                        name = ref.get("name", "")
                        # kube-root-ca.crt is published by a controller nbcluster does not run.
                        if name == "kube-root-ca.crt":
                            continue
                        if self.api.cached(resource, name, ns) is None:
                            mount_errors.append((vname, f'{key.lower()} "{name}" not found'))
                            self._block(rec, resource, name)
            elif volume.get("persistentVolumeClaim") is not None:
                claim_name = volume["persistentVolumeClaim"].get("claimName", "")
                claim = self.api.cached("persistentvolumeclaims", claim_name, ns)
                if claim is None:
                    claims.append(
                        (
                            vname,
                            claim_name,
                            f'failed to fetch PVC from API server: persistentvolumeclaims "{claim_name}" '
                            "not found",
                        )
                    )
                elif (claim.get("status") or {}).get("phase") != "Bound":
                    claims.append((vname, claim_name, "PVC is not bound"))
                if claim is None or (claim.get("status") or {}).get("phase") != "Bound":
                    self._block(rec, "persistentvolumeclaims", claim_name)
        if not mount_errors and not claims:
            rec.volume_wait_since = None
            self.volume_backoff.forget_prefix(rec.uid)
            return True
        now = self.clock.monotonic()
        if rec.volume_wait_since is None:
            rec.volume_wait_since = now
        for vname, message in mount_errors:
            self._event(
                rec,
                pod,
                EventType.WARNING,
                "FailedMount",
                f'MountVolume.SetUp failed for volume "{vname}" : {message}',
            )
        if claims and now - rec.volume_wait_since >= VOLUME_WAIT_REPORT_SECONDS:
            names = " ".join(v for v, _c, _m in claims)
            vname, claim_name, message = claims[0]
            self._event(
                rec,
                pod,
                EventType.WARNING,
                "FailedMount",
                f"Unable to attach or mount volumes: unmounted volumes=[{names}], unattached "
                f"volumes=[{names}], failed to process volumes=[{names}]: error processing PVC "
                f"{rec.namespace}/{claim_name}: {message}",
            )
        wall = self._wall()
        self.volume_backoff.next(rec.uid, wall, wall)
        delay = self.volume_backoff.get(rec.uid)
        if claims and not mount_errors:
            delay = max(delay, VOLUME_WAIT_REPORT_SECONDS - (now - rec.volume_wait_since))
        self._retry_at(rec, delay)
        return False

    def _mounts(self, rec: PodRecord, pod: Obj, container: Obj) -> tuple[Mount, ...]:
        mount_list = container.get("volumeMounts")
        if not mount_list:
            return ()
        volumes = {v.get("name"): v for v in pod["spec"].get("volumes") or ()}
        mounts = []
        for mount in mount_list:
            volume = volumes.get(mount.get("name"))
            if volume is None:
                continue
            read_only = bool(mount.get("readOnly"))
            folder = (rec.volume_dirs or {}).get(volume.get("name", ""))
            if folder is not None:
                # ConfigMap, Secret, downwardAPI and projected volumes are always read-only.
                mounts.append(
                    Mount(mount.get("mountPath", ""), folder, True, "bind", mount.get("subPath", ""))
                )
            elif volume.get("hostPath") is not None:
                mounts.append(
                    Mount(
                        mount.get("mountPath", ""),
                        volume["hostPath"].get("path", ""),
                        read_only,
                        "bind",
                        mount.get("subPath", ""),
                    )
                )
            elif volume.get("emptyDir") is not None:
                medium = (volume["emptyDir"] or {}).get("medium")
                mounts.append(
                    Mount(
                        mount.get("mountPath", ""),
                        f"{pod['metadata']['uid']}-{volume['name']}",
                        read_only,
                        "tmpfs" if medium == "Memory" else "volume",
                        mount.get("subPath", ""),
                    )
                )
            elif volume.get("persistentVolumeClaim") is not None:
                claim = volume["persistentVolumeClaim"].get("claimName", "")
                mounts.append(
                    Mount(
                        mount.get("mountPath", ""),
                        f"pvc-{pod['metadata'].get('namespace')}-{claim}",
                        read_only,
                        "volume",
                        mount.get("subPath", ""),
                    )
                )
        return tuple(mounts)

    # -- volume files (runtimes with a pod directory) -------------------------------------------

    async def _write_volumes(self, rec: PodRecord, pod: Obj) -> str | None:
        """Write the pod's ConfigMap/Secret/downwardAPI/projected volumes; the error, if any."""
        volumes = [v for v in pod["spec"].get("volumes") or () if any(k in v for k in FILE_VOLUME_KINDS)]
        if not volumes or self._pod_dir is None:
            return None
        ns = rec.namespace
        planned: list[tuple[Path, dict[str, tuple[bytes, int]]]] = []
        folders: dict[str, str] = {}
        base = Path(self._pod_dir(rec.uid)) / "volumes"
        for volume in volumes:
            kind = next(k for k in FILE_VOLUME_KINDS if k in volume)
            try:
                files = volume_files(
                    pod,
                    volume,
                    get_configmap=lambda n: self.api.cached("configmaps", n, ns),
                    get_secret=lambda n: self.api.cached("secrets", n, ns),
                    allocatable=rec.node.allocatable,
                )
            except VolumeError as exc:
                return f'MountVolume.SetUp failed for volume "{volume.get("name", "")}" : {exc}'
            folder = base / FILE_VOLUME_KINDS[kind] / volume.get("name", "")
            planned.append((folder, files))
            folders[volume.get("name", "")] = str(folder)
            for resource, name in referenced_objects(volume):
                self.volume_refs.setdefault((resource, ns, name), {})[rec.uid] = rec

        def write() -> None:
            for folder, files in planned:
                write_volume(folder, files)

        try:
            await asyncio.to_thread(write)
        except (OSError, VolumeError) as exc:
            return f"MountVolume.SetUp failed: {exc}"
        rec.volume_dirs = folders
        return None

    def volumes_changed(self, resource: str, namespace: str, name: str) -> None:
        """A ConfigMap/Secret changed: rewrite the files of the pods that mount it."""
        for rec in list((self.volume_refs.get((resource, namespace, name)) or {}).values()):
            if rec.pod is not None and rec.volume_dirs is not None and not rec.finalized:
                task = asyncio.get_running_loop().create_task(self._write_volumes(rec, rec.pod))
                self._volume_tasks.add(task)
                task.add_done_callback(self._volume_tasks.discard)

    def _drop_volume_refs(self, rec: PodRecord) -> None:
        if rec.volume_dirs is None:
            return
        for key in [k for k, pods in self.volume_refs.items() if rec.uid in pods]:
            self.volume_refs[key].pop(rec.uid, None)
            if not self.volume_refs[key]:
                del self.volume_refs[key]

    # -- adoption (a runtime that finds what an earlier one left) --------------------------------

    async def _adopt_leftovers(self, rec: PodRecord, pod: Obj) -> None:
        """Take over the sandbox and containers an earlier kubelet left for this pod."""
        assert self._adopt is not None
        try:
            adopted = await self._adopt(rec.uid)
        except NbClusterError as exc:
            log.info("adopting the containers of %s: %s", rec.key, exc)
            return
        if adopted is None:
            return
        specs: dict[str, tuple[Obj, str]] = {
            c["name"]: (c, "regular") for c in pod["spec"].get("containers") or ()
        }
        for c in pod["spec"].get("initContainers") or ():
            specs[c["name"]] = (c, _kind(c, True))
        if adopted.sandbox is not None:
            rec.sandbox = adopted.sandbox
            rec.sandbox_config = self._sandbox_config(rec, pod)
            self.containers[adopted.sandbox.id] = rec
        rec.sandbox_attempts = max(1, rec.sandbox_attempts)
        for item in adopted.containers:  # newest first: the current instance, then the one before
            if item.name not in specs:
                continue
            self.containers[item.id] = rec
            if item.name not in rec.current:
                spec, kind = specs[item.name]
                cr = ContainerRecord(
                    item.name, kind, spec, item.id, item.status, item.restart_count, self.clock.monotonic()
                )
                rec.current[item.name] = cr
                rec.starts[item.name] = item.restart_count + 1
                if cr.running and (
                    spec.get("startupProbe") or spec.get("livenessProbe") or spec.get("readinessProbe")
                ):
                    self.probes.start(rec, cr)
            elif item.name not in rec.previous:
                rec.previous[item.name] = item.status

    # -- sandbox ---------------------------------------------------------------------------

    def _sandbox_config(self, rec: PodRecord, pod: Obj) -> PodSandboxConfig:
        meta, spec = pod["metadata"], pod["spec"]
        ports: list[tuple[int, str]] = []
        host_ports: list[tuple[int, str, int, str]] = []
        for container in spec.get("containers") or ():
            for port in container.get("ports") or ():
                if port.get("containerPort"):
                    protocol = port.get("protocol") or "TCP"
                    ports.append((int(port["containerPort"]), protocol))
                    if port.get("hostPort"):
                        host_ports.append(
                            (
                                int(port["containerPort"]),
                                protocol,
                                int(port["hostPort"]),
                                port.get("hostIP") or "",
                            )
                        )
        if not self.instant:
            _add_probe_ports(spec, ports)
        ns = rec.namespace
        search, options, servers = self._dns_config(ns, spec)
        return PodSandboxConfig(
            namespace=ns,
            name=rec.name,
            uid=rec.uid,
            node=rec.node.name,
            hostname=spec.get("hostname") or rec.name,
            ports=tuple(ports),
            # The stored pod's own dicts: read-only for the runtime, no copies at 100k pods.
            labels=meta.get("labels") or {},
            annotations=meta.get("annotations") or {},
            dns_search=search,
            dns_options=options,
            dns_servers=servers,
            dns_names=self._dns_names(ns, meta, spec),
            host_ports=tuple(host_ports),
            host_network=bool(spec.get("hostNetwork")),
        )

    async def _create_sandbox(self, rec: PodRecord, pod: Obj) -> bool:
        config = self._sandbox_config(rec, pod)
        try:
            sandbox = await self.runtime.run_sandbox(config)
        except NbClusterError as exc:
            self._event(
                rec, pod, EventType.WARNING, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {exc}"
            )
            self._retry_at(rec, RETRY_SECONDS)
            return False
        if rec.sandbox_attempts > 0:
            self._event(
                rec,
                pod,
                EventType.NORMAL,
                "SandboxChanged",
                "Pod sandbox changed, it will be killed and re-created.",
            )
        rec.sandbox = sandbox
        rec.sandbox_config = config
        rec.sandbox_attempts += 1
        self.containers[sandbox.id] = rec  # a dying sandbox is reported like a container
        # A new sandbox runs the init containers again (purgeInitContainers).
        for container in pod["spec"].get("initContainers") or ():
            old = rec.current.pop(container["name"], None)
            if old is not None:
                self.probes.stop(old)
                await self._replace_previous(rec, container["name"], old.status)
        return True

    async def _replace_previous(self, rec: PodRecord, name: str, status: ContainerStatus) -> None:
        older = rec.previous.get(name)
        if older is not None and older.id != status.id:
            self.containers.pop(older.id, None)
            with contextlib.suppress(NbClusterError):
                await self.runtime.remove_container(older.id)
        rec.previous[name] = status

    async def _remove_sandbox(self, rec: PodRecord) -> bool:
        if rec.sandbox is None:
            return False
        sandbox, rec.sandbox = rec.sandbox, None
        self.containers.pop(sandbox.id, None)
        try:
            await self.runtime.remove_sandbox(sandbox.id)
        except NbClusterError as exc:
            log.info("removing the sandbox of %s: %s", rec.key, exc)
        return True

    # -- starting a container (startContainer) -----------------------------------------------

    async def start_container(
        self, rec: PodRecord, pod: Obj, container: Obj, kind: str, observed: ObservedPod
    ) -> bool:
        sandbox = rec.sandbox
        if sandbox is None or rec.sandbox_config is None:
            return False
        name = container["name"]
        seen = observed.containers.get(name)
        # Restart backoff, counted from when the last instance finished.
        if seen is not None and seen.last_finished is not None:
            now = self._wall()
            key = f"{rec.uid}/{name}"
            if self.restart_backoff.in_backoff_since(key, seen.last_finished, now):
                delay = self.restart_backoff.get(key)
                reason = (
                    "CrashLoopBackOff",
                    f"back-off {format_duration(delay)} restarting failed "
                    f"container={name} pod={rec.format()}",
                )
                if rec.reasons.get(name) != reason:  # once per wait, not per sync during it
                    self._event(
                        rec,
                        pod,
                        EventType.WARNING,
                        "BackOff",
                        f"Back-off restarting failed container {name} in pod {rec.format()}",
                        container,
                        kind,
                    )
                rec.reasons[name] = reason
                self._retry_at(rec, seen.last_finished + delay - now)
                return False
            self.restart_backoff.next(key, seen.last_finished, now)

        image = container.get("image") or ""
        if not await self._ensure_image(rec, pod, container, kind, image):
            return False

        restart_count = rec.starts.get(name)
        if restart_count is None:
            restart_count = self._adopted_restart_count(pod, name, kind)
        try:
            config = self._container_config(rec, pod, container, kind, restart_count)
        except EnvError as exc:
            self._event(rec, pod, EventType.WARNING, "Failed", f"Error: {exc.message}", container, kind)
            rec.reasons[name] = ("CreateContainerConfigError", exc.message)
            if exc.ref is not None:
                self._block(rec, *exc.ref)
            self._retry_at(rec, RETRY_SECONDS)
            return False

        try:
            container_id = await self.runtime.create_container(sandbox, rec.sandbox_config, config)
        except NbClusterError as exc:
            self._event(rec, pod, EventType.WARNING, "Failed", f"Error: {exc}", container, kind)
            rec.reasons[name] = ("CreateContainerError", str(exc))
            self._retry_at(rec, RETRY_SECONDS)
            return False
        self.containers[container_id] = rec
        self._event(rec, pod, EventType.NORMAL, "Created", f"Created container: {name}", container, kind)
        try:
            await self.runtime.start_container(container_id)
        except NbClusterError as exc:
            self._event(rec, pod, EventType.WARNING, "Failed", f"Error: {exc}", container, kind)
            rec.reasons[name] = ("RunContainerError", str(exc))
            self._retry_at(rec, RETRY_SECONDS)
            try:
                status = await self.runtime.container_status(container_id)
            except NotFound:
                return False
            await self._record_instance(rec, container, kind, container_id, status, restart_count)
            return False
        self._event(rec, pod, EventType.NORMAL, "Started", f"Started container {name}", container, kind)
        try:
            status = await self.runtime.container_status(container_id)
        except NotFound:
            status = ContainerStatus(id=container_id, name=name, state=ContainerState.UNKNOWN)
        cr = await self._record_instance(rec, container, kind, container_id, status, restart_count)
        rec.reasons.pop(name, None)
        if cr.running and (
            container.get("startupProbe") or container.get("livenessProbe") or container.get("readinessProbe")
        ):
            self.probes.start(rec, cr)
        hook = (container.get("lifecycle") or {}).get("postStart")
        if hook and cr.running:
            error = await self._run_hook(
                rec, cr, hook, float(pod["spec"].get("terminationGracePeriodSeconds", 30))
            )
            if error is not None:
                self._event(rec, pod, EventType.WARNING, "FailedPostStartHook", error, cr)
                await self.kill_container(rec, pod, cr, "FailedPostStartHook")
                rec.reasons[name] = ("PostStartHookError", error)
                return False
        return True

    def _adopted_restart_count(self, pod: Obj, name: str, kind: str) -> int:
        """A pod adopted from a previous control plane continues its restart count."""
        key = "containerStatuses" if kind == "regular" else "initContainerStatuses"
        for status in (pod.get("status") or {}).get(key) or ():
            if status.get("name") == name and status.get("containerID"):
                return int(status.get("restartCount") or 0) + 1
        return 0

    async def _record_instance(
        self,
        rec: PodRecord,
        container: Obj,
        kind: str,
        container_id: str,
        status: ContainerStatus,
        restart_count: int,
    ) -> ContainerRecord:
        name = container["name"]
        old = rec.current.get(name)
        if old is not None:
            self.probes.stop(old)
            await self._replace_previous(rec, name, old.status)
        cr = ContainerRecord(
            name, kind, container, container_id, status, restart_count, self.clock.monotonic()
        )
        rec.current[name] = cr
        rec.starts[name] = restart_count + 1
        return cr

    async def _ensure_image(self, rec: PodRecord, pod: Obj, container: Obj, kind: str, image: str) -> bool:
        name = container["name"]
        policy = container.get("imagePullPolicy") or default_pull_policy(image)
        key = f"{rec.uid}_{image}"
        wall = self._wall() if key in self.image_backoff else 0.0
        if policy != "Never" and wall and self.image_backoff.in_backoff_since_update(key, wall):
            message = f'Back-off pulling image "{image}"'
            self._event(rec, pod, EventType.NORMAL, "BackOff", message, container, kind)
            self._event(rec, pod, EventType.WARNING, "Failed", "Error: ImagePullBackOff", container, kind)
            rec.reasons[name] = ("ImagePullBackOff", message)
            due = self.image_backoff.due(key)
            self._retry_at(rec, (due - wall) if due is not None else RETRY_SECONDS)
            return False
        started = self.clock.monotonic()
        try:
            pulled = await self.runtime.ensure_image(image, policy)
        except ImagePullError as exc:
            reason = getattr(exc, "reason", "ErrImagePull") or "ErrImagePull"
            if reason == "ErrImageNeverPull":
                self._event(rec, pod, EventType.WARNING, "ErrImageNeverPull", exc.message, container, kind)
                self._event(
                    rec, pod, EventType.WARNING, "Failed", "Error: ErrImageNeverPull", container, kind
                )
                rec.reasons[name] = ("ErrImageNeverPull", exc.message)
                self._retry_at(rec, RETRY_SECONDS)
                return False
            self._event(rec, pod, EventType.NORMAL, "Pulling", f'Pulling image "{image}"', container, kind)
            self._event(
                rec,
                pod,
                EventType.WARNING,
                "Failed",
                f'Failed to pull image "{image}": {exc.message}',
                container,
                kind,
            )
            self._event(rec, pod, EventType.WARNING, "Failed", "Error: ErrImagePull", container, kind)
            wall = self._wall()
            self.image_backoff.next(key, wall, wall)
            rec.reasons[name] = ("ErrImagePull", exc.message)
            # kubelet's next sync shows ImagePullBackOff; the retry after the backoff pulls again.
            self._retry_at(rec, 1.0)
            return False
        if pulled:
            elapsed = self.clock.monotonic() - started
            stats = self._pull_stats(image) if self._pull_stats is not None else None
            took = format_duration(stats[0] if stats else elapsed)
            size = f" Image size: {stats[1]} bytes." if stats else ""
            self._event(rec, pod, EventType.NORMAL, "Pulling", f'Pulling image "{image}"', container, kind)
            self._event(
                rec,
                pod,
                EventType.NORMAL,
                "Pulled",
                f'Successfully pulled image "{image}" in {took} ({took} including waiting).{size}',
                container,
                kind,
            )
        else:
            self._event(
                rec,
                pod,
                EventType.NORMAL,
                "Pulled",
                f'Container image "{image}" already present on machine',
                container,
                kind,
            )
        return True

    def _container_config(
        self, rec: PodRecord, pod: Obj, container: Obj, kind: str, restart_count: int
    ) -> ContainerConfig:
        ns = rec.namespace
        spec = pod["spec"]
        links = spec.get("enableServiceLinks", True) is not False
        pod_ip = rec.sandbox.ip if rec.sandbox is not None and rec.sandbox.ip else ""
        if spec.get("hostNetwork"):
            pod_ip = rec.node.ip
        env = make_environment(
            pod,
            container,
            get_configmap=lambda name: self.api.cached("configmaps", name, ns),
            get_secret=lambda name: self.api.cached("secrets", name, ns),
            services=self._services(ns, links),
            pod_ips=[pod_ip] if pod_ip else [],
            host_ips=[rec.node.ip],
            allocatable=rec.node.allocatable,
        )
        command, args = expand_command(container, env)
        limits = (container.get("resources") or {}).get("limits") or {}
        annotations = dict(pod["metadata"].get("annotations") or {})
        annotations[RESTART_POLICY_HINT] = (
            "Always" if kind == "sidecar" else (spec.get("restartPolicy") or "Always")
        )
        annotations[CONTAINER_TYPE_HINT] = kind
        return ContainerConfig(
            name=container["name"],
            image=container.get("image") or "",
            command=command,
            args=args,
            env=env,
            working_dir=container.get("workingDir") or "",
            mounts=self._mounts(rec, pod, container),
            cpu_limit_millis=cpu_millis(limits["cpu"]) if "cpu" in limits else None,
            memory_limit_bytes=memory_bytes(limits["memory"]) if "memory" in limits else None,
            init=kind == "init",
            tty=bool(container.get("tty")),
            stdin=bool(container.get("stdin")),
            annotations=annotations,
            restart_count=restart_count,
        )

    async def _run_hook(self, rec: PodRecord, cr: ContainerRecord, hook: Obj, timeout: float) -> str | None:
        """Run a lifecycle handler; kubelet's failure message (lifecycle/handlers.go), or None."""
        # json.dumps stands in for Go's %q (same result for printable text).
        where = f"for Container {json.dumps(cr.name)} in Pod {json.dumps(rec.format())} failed"
        try:
            if hook.get("exec") is not None:
                command = [str(c) for c in hook["exec"].get("command") or ()]
                result = await self.runtime.exec(cr.id, command, timeout=timeout)
                if result.exit_code != 0:
                    # The CRI's ExecSync error, then the output, as kubelet's handler runner words it.
                    error = f"command '{' '.join(command)}' exited with {result.exit_code}: {result.output}"
                    return (
                        f"Exec lifecycle hook ([{' '.join(command)}]) {where} - error: {error}, "
                        f"message: {json.dumps(result.output, ensure_ascii=False)}"
                    )
                return None
            if hook.get("httpGet") is not None and rec.sandbox is not None:
                http = hook["httpGet"]
                result_http = await self.runtime.probe_http(
                    rec.sandbox,
                    cr.id,
                    port=resolve_port(cr.spec, http.get("port")),
                    path=http.get("path") or "/",
                    scheme=http.get("scheme") or "HTTP",
                    headers={},
                    timeout=timeout,
                )
                if result_http.success:
                    return None
                return f"HTTP lifecycle hook ({http.get('path', '')}) {where} - error: {result_http.message}"
            if hook.get("sleep") is not None:
                await self.clock.sleep(min(float(hook["sleep"].get("seconds") or 0), timeout))
        except NbClusterError as exc:
            return str(exc)
        return None

    # -- stopping ------------------------------------------------------------------------------

    def _grace(self, pod: Obj) -> float:
        meta = pod["metadata"]
        if meta.get("deletionTimestamp") and meta.get("deletionGracePeriodSeconds") is not None:
            return float(meta["deletionGracePeriodSeconds"])
        return float(pod["spec"].get("terminationGracePeriodSeconds", 30))

    async def kill_container(
        self,
        rec: PodRecord,
        pod: Obj,
        cr: ContainerRecord,
        message: str | None = None,
        *,
        grace: float | None = None,
    ) -> None:
        """killContainer: the Killing event, the preStop hook within the grace period, stop."""
        self.probes.stop(cr)
        self._event(rec, pod, EventType.NORMAL, "Killing", message or f"Stopping container {cr.name}", cr)
        remaining = self._grace(pod) if grace is None else float(grace)
        hook = (cr.spec.get("lifecycle") or {}).get("preStop")
        if hook and remaining > 0 and cr.running:
            started = self.clock.monotonic()
            error = await self._run_hook(rec, cr, hook, remaining)
            if error is not None:
                self._event(rec, pod, EventType.WARNING, "FailedPreStopHook", error, cr)
            remaining -= int(self.clock.monotonic() - started)
        remaining = max(remaining, MIN_GRACE_SECONDS)
        try:
            await self.runtime.stop_container(cr.id, remaining)
            cr.status = await self.runtime.container_status(cr.id)
        except NotFound:
            cr.status = ContainerStatus(
                id=cr.id,
                name=cr.name,
                state=ContainerState.UNKNOWN,
                image=cr.status.image,
                image_id=cr.status.image_id,
            )

    async def kill_pod(self, rec: PodRecord, pod: Obj, message: str | None = None) -> bool:
        """Stop every running container (regular first, then sidecars last-to-first) and the sandbox."""
        running = [cr for cr in rec.current.values() if cr.status.state is not ContainerState.EXITED]
        regular = [cr for cr in running if cr.kind != "sidecar"]
        sidecars = [cr for cr in running if cr.kind == "sidecar"]
        if len(regular) > 1:
            # Like kubelet, the regular containers are stopped at the same time.
            await asyncio.gather(*(self.kill_container(rec, pod, cr, message) for cr in regular))
        elif regular:
            await self.kill_container(rec, pod, regular[0], message)
        for cr in sidecars[::-1]:
            await self.kill_container(rec, pod, cr, message)
        removed = await self._remove_sandbox(rec)
        return bool(running) or removed

    async def _release(self, rec: PodRecord) -> None:
        """A terminal pod keeps its (exited) containers but frees probes and its sandbox."""
        for cr in rec.current.values():
            self.probes.stop(cr)
        await self._remove_sandbox(rec)
        if rec.retry is not None:
            rec.retry.cancel()
            rec.retry = None
        self._unblock(rec)

    def forget_backoffs(self, rec: PodRecord) -> None:
        if len(self.restart_backoff):
            self.restart_backoff.forget_prefix(rec.uid)
        if len(self.image_backoff):
            self.image_backoff.forget_prefix(rec.uid)
        if len(self.volume_backoff):
            self.volume_backoff.forget_prefix(rec.uid)

    async def _remove_all(self, rec: PodRecord) -> None:
        self.forget_backoffs(rec)
        self._drop_volume_refs(rec)
        for cr in rec.current.values():
            self.probes.stop(cr)
        for container_id in rec.container_ids():
            self.containers.pop(container_id, None)
            with contextlib.suppress(NbClusterError):
                await self.runtime.remove_container(container_id)
        await self._remove_sandbox(rec)
        await self.release_pod(rec)

    async def release_pod(self, rec: PodRecord) -> None:
        """Tell the runtime the pod is gone (its emptyDirs and volume files go)."""
        if self._release_pod is not None:
            with contextlib.suppress(NbClusterError):
                await self._release_pod(rec.uid)

    async def terminate(self, rec: PodRecord) -> None:
        """Graceful deletion: kill containers within the grace period, clean up, finalize."""
        pod = rec.pod
        if pod is None or rec.finalized:
            return
        rec.terminating = True
        if rec.retry is not None:
            rec.retry.cancel()
            rec.retry = None
        self._unblock(rec)
        await self.kill_pod(rec, pod)
        pod = rec.pod or pod
        await self.write_status(rec, terminating=True)
        await self._remove_all(rec)
        rec.finalized = True
        with contextlib.suppress(NotFound, Conflict):
            self.api.delete(
                "pods",
                rec.name,
                namespace=rec.namespace,
                grace_period_seconds=0,
                preconditions={"uid": rec.uid},
            )

    async def cleanup(self, rec: PodRecord) -> None:
        """The pod is gone from the API: stop and remove whatever the runtime still has."""
        if rec.retry is not None:
            rec.retry.cancel()
            rec.retry = None
        self._unblock(rec)
        for cr in rec.current.values():
            self.probes.stop(cr)
            if cr.status.state is not ContainerState.EXITED:
                with contextlib.suppress(NbClusterError):
                    await self.runtime.stop_container(cr.id, MIN_GRACE_SECONDS)
        await self._remove_all(rec)
        rec.current.clear()
        rec.previous.clear()
        rec.finalized = True

    # -- status (generateAPIPodStatus + the status manager) ------------------------------------

    def _will_restart(self, pod: Obj, container: Obj, kind: str, cr: ContainerRecord | None) -> bool:
        if pod["metadata"].get("deletionTimestamp"):
            return False
        if cr is None:
            return True
        state = cr.status.state
        if state is ContainerState.RUNNING:
            return False
        if state is not ContainerState.EXITED:
            return True
        if kind == "sidecar":
            return True
        policy = pod["spec"].get("restartPolicy") or "Always"
        if kind == "init" and cr.status.exit_code == 0:
            return False
        if policy == "Never":
            return False
        return not (policy == "OnFailure" and cr.status.exit_code == 0)

    def _statuses(
        self,
        rec: PodRecord,
        pod: Obj,
        containers: list[Obj],
        init: bool,
        default_reason: str,
        old: list[Obj] | None,
    ) -> list[Obj]:
        old_by_name = {s.get("name"): s for s in old or ()}
        out = []
        runtime = self.runtime_name
        for container in containers:
            name = container["name"]
            kind = _kind(container, init)
            cr = rec.current.get(name)
            waiting = rec.reasons.get(name)
            if waiting is not None and not self._will_restart(pod, container, kind, cr):
                waiting = None
            if cr is None:
                out.append(
                    container_status(
                        name,
                        container.get("image") or "",
                        runtime=runtime,
                        current=None,
                        previous=rec.previous.get(name),
                        restart_count=rec.starts.get(name, 0),
                        waiting=waiting,
                        default_reason=default_reason,
                        old=old_by_name.get(name),
                    )
                )
            else:
                out.append(
                    container_status(
                        name,
                        container.get("image") or "",
                        runtime=runtime,
                        current=cr.status,
                        previous=rec.previous.get(name),
                        restart_count=cr.restart_count,
                        ready=cr.ready,
                        started=cr.started,
                        waiting=waiting,
                        default_reason=default_reason,
                    )
                )
        return out

    async def write_status(
        self, rec: PodRecord, *, terminating: bool = False, failed: tuple[str, str] | None = None
    ) -> str | None:
        """Build the pod's status and write it if it changed; returns the phase."""
        pod = rec.pod
        if pod is None:
            return None
        spec = pod["spec"]
        old_status: Obj = pod.get("status") or {}
        init_specs = spec.get("initContainers") or []
        default_reason = "PodInitializing" if init_specs else "ContainerCreating"
        init_statuses = self._statuses(
            rec, pod, init_specs, True, default_reason, old_status.get("initContainerStatuses")
        )
        statuses = self._statuses(
            rec, pod, spec.get("containers") or [], False, default_reason, old_status.get("containerStatuses")
        )
        if terminating and any("terminated" in s["state"] or "running" in s["state"] for s in statuses):
            for status in statuses:
                if "terminated" not in status["state"]:
                    status["state"] = terminated_unknown()
                    status["ready"] = False
                    status["started"] = False
        phase = get_phase(spec, init_statuses, statuses, pod_is_terminal=terminating)
        old_phase = old_status.get("phase")
        if failed is not None:
            phase = "Failed"
        elif old_phase in _TERMINAL and phase not in _TERMINAL:
            phase = old_phase  # a terminal phase never goes back
        now = self._stamp()
        new: Obj = dict(old_status)
        new["phase"] = phase
        new["conditions"] = pod_conditions(
            pod, phase, init_statuses, statuses, sandbox_ready=rec.sandbox is not None, now=now
        )
        new["hostIP"] = rec.node.ip
        new["hostIPs"] = [{"ip": rec.node.ip}]
        ip = rec.node.ip if spec.get("hostNetwork") else (rec.sandbox.ip if rec.sandbox is not None else "")
        if ip:
            new["podIP"] = ip
            new["podIPs"] = [{"ip": ip}]
        if rec.start_time:
            new["startTime"] = rec.start_time
        if init_specs:
            new["initContainerStatuses"] = init_statuses
        new["containerStatuses"] = statuses
        if failed is not None:
            new["reason"], new["message"] = failed
        terminal = phase in _TERMINAL and not terminating
        if new == old_status:
            rec.terminal = rec.terminal or terminal
            return phase
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": rec.name,
                "namespace": rec.namespace,
                "resourceVersion": pod["metadata"].get("resourceVersion"),
            },
            "status": new,
        }
        try:
            self.api.update_status(body, owned=True)
        except Conflict:
            rec.dirty = True
            return phase
        except NotFound:
            return phase
        rec.terminal = rec.terminal or terminal
        return phase
