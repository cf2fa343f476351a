"""The Docker runtime: pods as real containers on a Docker Engine. Does I/O (the Docker API,
files under the runtime's root directory, probes over 127.0.0.1).

The pod model is the one dockershim gave Kubernetes:

* **Sandbox.** One pause container per pod (``k8s_POD_<pod>_<ns>_<uid>_<n>``) holds the
  pod's network and IPC namespaces and its hostname (the pod name). Every app and init
  container joins them (``network_mode="container:<sandbox>"``, ``ipc_mode`` likewise), so
  the containers of a pod talk over ``localhost``. The sandbox sits on the cluster's own
  Docker network (``nbcluster-<cluster>``); its address there is the pod IP.
* **Ports.** Every ``containerPort`` (and every port a probe uses) is published by the
  sandbox on 127.0.0.1 with an ephemeral host port (:attr:`SandboxInfo.host_ports`):
  probes, port-forward and Services reach pods over loopback only, never the bridge.
* **Containers.** command/args/env/workingDir as the kubelet resolved them, limits as
  ``mem_limit`` (no extra swap) / ``nano_cpus``; OOMKilled comes from Docker's state.
  Stopping sends the image's stop signal (SIGTERM), waits the grace period, then SIGKILL.
* **Status from events.** One ``/events`` stream per runtime, filtered on the cluster's
  label and read by a dedicated thread, reports every exit (``die``): the kubelet is told
  through :meth:`on_container_exit` and inspects only that container. When the stream breaks
  and cannot reconnect, the kubelet hears that the daemon is gone (:meth:`on_runtime_state`:
  its nodes go NotReady); after the daemon comes back, the stream reconnects, every
  container believed running is checked once, and then the kubelet hears it is back.
* **In-cluster Services.** The network's lower half is the service CIDR
  (:mod:`docker_network`); each Service gets a forwarder container at its ClusterIP with the
  alias ``NAME.NS.svc.cluster.local`` (:mod:`docker_services`), and sandboxes get Kubernetes'
  search list and ``ndots:5``, so ``wget http://NAME:PORT`` works from any pod. Headless
  Services and ``hostname``/``subdomain`` pods resolve to pod IPs through sandbox aliases.
* **Ownership.** Every container, network and volume carries ``io.nbcluster.*`` labels
  (cluster, namespace, pod, uid, container, node). :meth:`close` removes everything with
  the cluster's label and nothing else. A new runtime for the same cluster name finds the
  leftovers of an earlier one (:meth:`list_leftovers`); the kubelet adopts those a pod
  still wants (:meth:`adopt_pod`) and the rest are removed (:meth:`remove_leftovers`).

Blocking docker-py calls run on a bounded thread pool (``max_workers``, default 32) whose
size matches the HTTP connection pool, so pods start in parallel.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import ipaddress
import logging
import os
import platform
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors
import requests
from docker.types import Mount as DockerMount

from nbcluster.errors import BadRequest, NbClusterError, NotFound, RuntimeUnavailable
from nbcluster.runtime.cluster_lock import ClusterLock
from nbcluster.runtime.docker_network import NetworkPlan, choose_subnet, host_routes, plan_for
from nbcluster.runtime.docker_services import (
    DEFAULT_SERVICE_PROXY_IMAGE,
    ServiceForwarders,
    is_forwarder,
)
from nbcluster.runtime.docker_support import (
    BUILTIN_PAUSE_IMAGE,
    DEFAULT_PAUSE_IMAGE,
    LABEL_CLUSTER,
    LABEL_CONTAINER,
    LABEL_CONTAINER_TYPE,
    LABEL_KIND,
    LABEL_NAMESPACE,
    LABEL_NODE,
    LABEL_POD,
    LABEL_RESTART_COUNT,
    LABEL_SANDBOX,
    LABEL_SERVICE_CIDR,
    LABEL_UID,
    LABEL_VOLUME,
    container_name,
    docker_name,
    http_probe,
    parse_docker_time,
    pause_image_tar,
    read_exec_stream,
    sandbox_name,
    split_image,
    tcp_probe,
)
from nbcluster.runtime.interface import (
    ContainerConfig,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    ExecResult,
    ImagePullError,
    Mount,
    PodSandboxConfig,
    ProbeResult,
    Runtime,
    SandboxInfo,
    ServiceConfig,
)

__all__ = [
    "AdoptedContainer",
    "AdoptedPod",
    "DockerRuntime",
    "Leftover",
    "default_docker_url",
    "docker_available",
]

log = logging.getLogger("nbcluster.runtime.docker")

T = TypeVar("T")

CONTAINER_TYPE_HINT = "nbcluster.io/container-type"
_DEFAULT_SOCKET = "unix:///var/run/docker.sock"
_EVENTS = ["die", "oom", "destroy"]


def default_docker_url() -> str:
    """Where the daemon is expected: ``$DOCKER_HOST`` or the default socket."""
    return os.environ.get("DOCKER_HOST") or _DEFAULT_SOCKET


def docker_available(timeout: float = 2.0) -> str | None:
    """The daemon's address when a Docker daemon answers a ping there, else None (fast)."""
    url = default_docker_url()
    if url.startswith("unix://") and not os.path.exists(url[len("unix://") :]):
        return None
    try:
        client = docker.from_env(timeout=timeout, version="1.41")
        try:
            client.ping()
        finally:
            client.close()
    except Exception:  # anything at all: the daemon does not answer usefully
        return None
    return url


@dataclass(frozen=True)
class Leftover:
    """A container an earlier runtime of this cluster left behind."""

    id: str
    kind: str  # sandbox | container
    namespace: str
    pod: str
    uid: str
    container: str
    node: str
    state: str  # Docker's: running, exited, created...
    restart_count: int = 0
    sandbox: str = ""
    created: float = 0.0


@dataclass(frozen=True)
class AdoptedContainer:
    id: str
    name: str
    container_type: str  # init | sidecar | regular
    restart_count: int
    status: ContainerStatus


@dataclass(frozen=True)
class AdoptedPod:
    """What a new runtime found of a pod: its live sandbox (if any) and its containers.

    ``containers`` holds at most two instances per container name, newest first: the
    current one and the one before (what ``logs --previous`` shows).
    """

    sandbox: SandboxInfo | None
    containers: tuple[AdoptedContainer, ...] = ()


@dataclass
class _Sandbox:
    id: str
    uid: str
    namespace: str
    pod: str
    node: str
    ip: str
    host_ports: dict[tuple[int, str], int]
    ready: bool = True


@dataclass
class _Container:
    id: str
    uid: str
    sandbox_id: str
    name: str
    stop_signal: str = "SIGTERM"


@dataclass
class _Pod:
    """Per pod uid: sandbox attempts made and the volumes it owns."""

    attempts: int = 0
    volumes: set[str] = field(default_factory=set)


class DockerRuntime(Runtime):
    """A :class:`Runtime` on a Docker Engine (see the module docstring).

    ``DockerRuntime(pause_image="nbcluster/pause:test")``; the cluster's name and state
    directory are given by the control plane (:meth:`bind_cluster`), or here with
    ``cluster=`` / ``state_dir=``. ``base_url`` defaults to ``$DOCKER_HOST`` or the
    default socket; the pause image to ``$NBCLUSTER_PAUSE_IMAGE`` or
    ``registry.k8s.io/pause:3.10`` (a tiny one is built locally when neither is there).
    """

    name = "docker"
    instant = False
    cluster_dns = True
    measures_usage = True

    def __init__(
        self,
        *,
        cluster: str | None = None,
        pause_image: str | None = None,
        service_proxy_image: str | None = None,
        base_url: str | None = None,
        state_dir: str | Path | None = None,
        max_workers: int = 32,
        timeout: float = 60.0,
        pods_per_node: int = 110,
        capacity: dict[str, str] | None = None,
    ) -> None:
        self.cluster = cluster
        self._cluster_given = cluster is not None
        self.pause_image = pause_image or os.environ.get("NBCLUSTER_PAUSE_IMAGE") or DEFAULT_PAUSE_IMAGE
        self.service_proxy_image = (
            service_proxy_image
            or os.environ.get("NBCLUSTER_SERVICE_PROXY_IMAGE")
            or DEFAULT_SERVICE_PROXY_IMAGE
        )
        self.base_url = base_url or default_docker_url()
        self.state_dir = Path(state_dir) if state_dir else None
        self.max_workers = max(4, int(max_workers))
        self.timeout = timeout
        self.pods_per_node = pods_per_node
        self.version = "unknown"
        self.os_image = "Docker Engine"
        self._capacity = {
            "cpu": "4",
            "memory": "8Gi",
            "pods": str(pods_per_node),
            "ephemeral-storage": "100Gi",
        }
        self._client: docker.DockerClient | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._callbacks: list[Callable[[str], None]] = []
        self._state_callbacks: list[Callable[[str | None, str], None]] = []
        #: (reason, message) the kubelet was told while the daemon does not answer
        self._runtime_problem: tuple[str, str] | None = None
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        self._pods: dict[str, _Pod] = {}
        self._running: set[str] = set()
        self._exited: dict[str, ContainerStatus] = {}
        self._exit_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._images: dict[str, dict[str, Any]] = {}
        self._pulls: dict[str, asyncio.Future[bool]] = {}
        self._pull_stats: dict[str, tuple[float, int]] = {}
        self._volume_paths: dict[str, str] = {}
        self._network_id: str | None = None
        self._network_lock: asyncio.Lock | None = None
        self._plan: NetworkPlan | None = None
        self._lock: ClusterLock | None = None
        self.services = ServiceForwarders(self)
        self._pause_ready: asyncio.Future[str] | None = None
        self._leftovers: dict[str, list[Leftover]] = {}
        self._root: Path | None = None
        self._root_is_temp = False
        self._events_thread: threading.Thread | None = None
        self._events_stream: Any = None
        self._events_since: float | None = None
        self._daemon_up = False
        self._capacity_override = dict(capacity or {})
        self._closing = False
        self._started = False
        self._cleaned = True
        self._atexit_registered = False

    # -- identity ----------------------------------------------------------------------

    def bind_cluster(self, name: str, state_dir: str | Path | None = None) -> None:
        """The control plane tells the runtime whose containers it makes (before start)."""
        if not self._cluster_given:
            self.cluster = name
        if state_dir is not None and self.state_dir is None:
            self.state_dir = Path(state_dir)

    @property
    def network_name(self) -> str:
        return docker_name(f"nbcluster-{self.cluster}")

    @property
    def network_plan(self) -> NetworkPlan | None:
        return self._plan

    def choose_service_cidr(self) -> str | None:
        """The service CIDR the API server should allocate ClusterIPs from (before start).

        The cluster's network, when it exists already (a re-adopted cluster), decides;
        otherwise the first free candidate /16. None when no daemon answers (start fails
        then anyway) or every candidate is taken (ClusterIPs then stay virtual)."""
        if self._plan is None:
            try:
                client = self._make_client(pool=2, timeout=5)
            except Exception:
                return None
            try:
                self._plan = self._plan_network(client.api)
            except Exception as exc:  # the daemon went away: start() reports it
                log.debug("choosing the service CIDR: %s", exc)
                return None
            finally:
                client.close()
        return str(self._plan.service_cidr) if self._plan is not None else None

    def _plan_network(self, api: Any) -> NetworkPlan | None:
        taken = []
        for network in api.networks():
            if network.get("Name") == self.network_name:
                return _existing_plan(network)
            for subnet in _subnets(network):
                with contextlib.suppress(ValueError, TypeError):
                    net = ipaddress.ip_network(subnet, strict=False)
                    if net.version == 4:
                        taken.append(net)
        subnet = choose_subnet([*taken, *host_routes()])
        return plan_for(subnet) if subnet is not None else None

    def _labels(self, **extra: str) -> dict[str, str]:
        labels = {LABEL_CLUSTER: str(self.cluster)}
        labels.update(extra)
        return labels

    def _pod_labels(self, pod: PodSandboxConfig, kind: str, container: str) -> dict[str, str]:
        return self._labels(
            **{
                LABEL_NAMESPACE: pod.namespace,
                LABEL_POD: pod.name,
                LABEL_UID: pod.uid,
                LABEL_NODE: pod.node,
                LABEL_CONTAINER: container,
                LABEL_KIND: kind,
            }
        )

    @property
    def root_dir(self) -> Path:
        """Where pod files live on the host (``<state dir>/kubelet`` or a temporary dir)."""
        if self._root is None:
            if self.state_dir is not None:
                self._root = Path(self.state_dir) / "kubelet"
                self._root.mkdir(parents=True, exist_ok=True)
            else:
                self._root = Path(tempfile.mkdtemp(prefix=f"nbcluster-{docker_name(str(self.cluster))}-"))
                self._root_is_temp = True
        return self._root

    def pod_dir(self, uid: str) -> Path:
        """``<root>/pods/<uid>``, like ``/var/lib/kubelet/pods/<uid>`` (created on demand)."""
        path = self.root_dir / "pods" / uid
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- calling docker ----------------------------------------------------------------------

    def _unreachable(self) -> RuntimeUnavailable:
        return RuntimeUnavailable(
            f"Cannot connect to the Docker daemon at {self.base_url}. Is the docker daemon running?"
        )

    def _convert(self, exc: BaseException) -> BaseException:
        """A docker-py / requests error as nbcluster's error, worded like the daemon."""
        if isinstance(exc, NbClusterError):
            return exc
        if isinstance(exc, docker.errors.NotFound):
            return NotFound(_explain(exc))
        if isinstance(exc, docker.errors.APIError):
            return BadRequest(f"Error response from daemon: {_explain(exc)}")
        if isinstance(exc, requests.exceptions.Timeout):
            return RuntimeUnavailable(
                f"the Docker daemon at {self.base_url} did not answer within {self.timeout:.0f}s"
            )
        if isinstance(exc, (requests.exceptions.ConnectionError, ConnectionError)):
            self._daemon_up = False
            return self._unreachable()
        if isinstance(exc, docker.errors.DockerException):
            if "Connection" in str(exc) or "connect" in str(exc):
                self._daemon_up = False
                return self._unreachable()
            return BadRequest(str(exc))
        return exc

    def _blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            converted = self._convert(exc)
            if converted is exc:
                raise
            raise converted from exc

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking docker-py call on the runtime's pool; errors converted."""
        if self._pool is None or self._client is None:
            raise self._unreachable()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self._blocking, fn, *args, **kwargs))

    @property
    def _api(self) -> Any:
        if self._client is None:
            raise self._unreachable()
        return self._client.api

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (RuntimeUnavailable naming the socket when no daemon answers), make the
        cluster's network, note leftovers of an earlier runtime, start the event reader."""
        if self._started:
            return
        self._loop = asyncio.get_running_loop()
        self._closing = False
        if self.cluster is None:
            self.cluster = f"nbcluster-{uuid.uuid4().hex[:8]}"
            log.warning("DockerRuntime was not bound to a cluster: using the name %s", self.cluster)
        self._pool = ThreadPoolExecutor(
            self.max_workers, thread_name_prefix=f"nbcluster-docker-{self.cluster}"
        )
        try:
            self._client = await asyncio.get_running_loop().run_in_executor(self._pool, self._connect)
        except BaseException:
            self._pool.shutdown(wait=False)
            self._pool = None
            raise
        self._daemon_up = True
        self._network_lock = asyncio.Lock()
        info = await self._call(self._api.info)
        lock = ClusterLock(str(info.get("ID") or self.base_url), str(self.cluster))
        try:
            lock.acquire()
        except BaseException:
            self._disconnect()  # touches nothing in Docker: the cluster is another process's
            raise
        self._lock = lock
        self.version = str(info.get("ServerVersion") or "unknown")
        self.os_image = str(info.get("OperatingSystem") or "Docker Engine")
        cpus = int(info.get("NCPU") or 4)
        memory = int(info.get("MemTotal") or 8 << 30)
        self._capacity = {
            "cpu": str(cpus),
            "memory": f"{memory // 1024}Ki",
            "pods": str(self.pods_per_node),
            "ephemeral-storage": "100Gi",
            **self._capacity_override,
        }
        self._cleaned = False
        if not self._atexit_registered:
            atexit.register(self._cleanup_at_exit)
            self._atexit_registered = True
        await self._ensure_network()
        await self.services.remove_stale()
        await self._scan_leftovers()
        self._start_events()
        self._started = True

    def _disconnect(self) -> None:
        """Drop the thread pool and the client (no Docker call)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    def _make_client(self, *, pool: int, timeout: float) -> docker.DockerClient:
        """A client for the daemon at ``base_url`` (TLS settings from the environment)."""
        kwargs: dict[str, Any] = {"timeout": int(timeout), "max_pool_size": pool}
        if self.base_url == default_docker_url():
            return docker.from_env(**kwargs)
        return docker.DockerClient(base_url=self.base_url, **kwargs)

    def _connect(self) -> docker.DockerClient:
        try:
            client = self._make_client(pool=self.max_workers + 8, timeout=self.timeout)
            client.ping()
        except Exception as exc:
            raise self._unreachable() from exc
        return client

    async def close(self) -> None:
        """Remove every container, volume and network labelled with this cluster, then stop."""
        self._closing = True
        self._stop_events()
        if self._client is not None and self._pool is not None:
            try:
                await self._remove_everything()
                self._cleaned = True
            except (NbClusterError, RuntimeError) as exc:
                log.warning("cleaning up the Docker objects of %s: %s", self.cluster, exc)
        for waiters in self._exit_waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._exit_waiters.clear()
        self._sandboxes.clear()
        self._containers.clear()
        self._pods.clear()
        self._running.clear()
        self._exited.clear()
        self._leftovers.clear()
        self.services.forget()
        if self._root is not None:
            targets = [self._root] if self._root_is_temp else [self._root / "pods", self._root / "services"]
            for target in targets:
                shutil.rmtree(target, ignore_errors=True)
            self._root = None
        self._disconnect()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self._started = False

    async def _remove_everything(self) -> None:
        label = f"{LABEL_CLUSTER}={self.cluster}"
        containers = await self._call(self._api.containers, all=True, filters={"label": label})
        await asyncio.gather(*(self._remove_quietly(c["Id"]) for c in containers), return_exceptions=True)
        volumes = (await self._call(self._api.volumes, filters={"label": label})).get("Volumes") or []
        await asyncio.gather(
            *(self._call(self._remove_volume, v["Name"]) for v in volumes), return_exceptions=True
        )
        for network in await self._call(self._api.networks, filters={"label": label}):
            with contextlib.suppress(NbClusterError):
                await self._call(self._api.remove_network, network["Id"])
        self._network_id = None

    def _cleanup_at_exit(self) -> None:
        """Interpreter exit (a kernel shutting down) without close(): remove the cluster's
        containers, volumes and network with plain threads (executors are gone by now)."""
        if self._cleaned or self.cluster is None:
            return
        self._cleaned = True
        self._closing = True
        self._stop_events()
        try:
            client = self._make_client(pool=16, timeout=30)
        except Exception:
            return
        label = f"{LABEL_CLUSTER}={self.cluster}"
        api = client.api
        try:
            ids = [c["Id"] for c in api.containers(all=True, filters={"label": label})]
            threads = [
                threading.Thread(target=_quietly, args=(api.remove_container, cid), kwargs={"force": True})
                for cid in ids
            ]
            for batch in range(0, len(threads), 16):
                for thread in threads[batch : batch + 16]:
                    thread.start()
                for thread in threads[batch : batch + 16]:
                    thread.join(timeout=30)
            for volume in api.volumes(filters={"label": label}).get("Volumes") or []:
                _quietly(api.remove_volume, volume["Name"], force=True)
            for network in api.networks(filters={"label": label}):
                _quietly(api.remove_network, network["Id"])
        except Exception as exc:  # the daemon is gone: nothing more to do
            log.debug("cleaning up %s at exit: %s", self.cluster, exc)
        finally:
            with contextlib.suppress(Exception):
                client.close()
        if self._root is not None:
            shutil.rmtree(self._root if self._root_is_temp else self._root / "pods", ignore_errors=True)

    async def _remove_quietly(self, container_id: str) -> None:
        with contextlib.suppress(NotFound):
            await self._call(self._api.remove_container, container_id, force=True, v=False)

    def _remove_volume(self, name: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self._api.remove_volume(name, force=True)

    def on_container_exit(self, callback: Callable[[str], None]) -> None:
        """``callback(id)`` on the runtime's loop when a container (or a sandbox) exits."""
        self._callbacks.append(callback)

    def on_runtime_state(self, callback: Callable[[str | None, str], None]) -> None:
        """``callback(reason, message)`` on the runtime's loop when the daemon stops answering
        (CRI's RuntimeReady=false: ``DockerDaemonNotReady`` and the client's words), and
        ``callback(None, "")`` once it answers again and the containers were checked."""
        self._state_callbacks.append(callback)

    @property
    def runtime_problem(self) -> tuple[str, str] | None:
        """(reason, message) while the daemon does not answer, else None."""
        return self._runtime_problem

    # -- usage (what metrics-server reads through the kubelet) ------------------------------

    async def container_stats(self, container_ids: list[str]) -> dict[str, ContainerStats]:
        results = await asyncio.gather(
            *(self._call(self._stats_blocking, cid) for cid in container_ids), return_exceptions=True
        )
        return {
            cid: stats
            for cid, stats in zip(container_ids, results, strict=True)
            if isinstance(stats, ContainerStats)
        }

    def _stats_blocking(self, container_id: str) -> ContainerStats | None:
        stats = self._api.stats(container_id, stream=False, one_shot=True)
        cpu = ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
        memory = stats.get("memory_stats") or {}
        usage = memory.get("usage")
        if cpu is None or usage is None:  # not running (any more)
            return None
        details = memory.get("stats") or {}
        # The working set, as cAdvisor/metrics-server count it: usage minus inactive files.
        inactive = details.get("inactive_file", details.get("total_inactive_file", 0)) or 0
        return ContainerStats(int(cpu), max(0, int(usage) - int(inactive)))

    # -- services inside the network ----------------------------------------------------------

    async def sync_service(self, config: ServiceConfig) -> None:
        await self.services.sync(config)

    async def remove_service(self, namespace: str, name: str) -> None:
        await self.services.remove(namespace, name)

    def node_capacity(self) -> dict[str, str]:
        return dict(self._capacity)

    def sandbox_ready(self, sandbox_id: str) -> bool:
        """False once the sandbox's pause container has exited (no I/O)."""
        sandbox = self._sandboxes.get(sandbox_id)
        return sandbox is not None and sandbox.ready

    # -- network and the pause image -------------------------------------------------------

    async def _ensure_network(self) -> str:
        if self._network_id is not None:
            return self._network_id
        assert self._network_lock is not None
        async with self._network_lock:
            if self._network_id is None:
                self._network_id = await self._call(self._network_blocking)
        return self._network_id

    def _network_blocking(self) -> str:
        api = self._api
        for network in api.networks(names=[self.network_name]):
            if network.get("Name") == self.network_name:
                labels = network.get("Labels") or {}
                if labels.get(LABEL_CLUSTER) != self.cluster:
                    raise BadRequest(
                        f'the Docker network "{self.network_name}" exists but does not belong to '
                        f'cluster "{self.cluster}" (label {LABEL_CLUSTER})'
                    )
                self._plan = _existing_plan(network)
                return str(network["Id"])
        if self._plan is None:
            self._plan = self._plan_network(api)
        ipam = None
        if self._plan is not None:
            plan = self._plan
            ipam = docker.types.IPAMConfig(
                pool_configs=[
                    docker.types.IPAMPool(
                        subnet=str(plan.subnet),
                        iprange=str(plan.pod_range),
                        gateway=plan.gateway,
                        aux_addresses={f"reserved-{i}": ip for i, ip in enumerate(plan.reserved)},
                    )
                ]
            )
        created = api.create_network(
            self.network_name,
            driver="bridge",
            ipam=ipam,
            check_duplicate=True,
            labels=self._labels(
                **{LABEL_KIND: "network"},
                **({LABEL_SERVICE_CIDR: str(self._plan.service_cidr)} if self._plan else {}),
            ),
        )
        return str(created["Id"])

    async def _pause(self) -> str:
        """The pause image, made present once: found, pulled, or (default only) built here."""
        if self._pause_ready is None:
            self._pause_ready = asyncio.get_running_loop().create_future()
            try:
                image = await self._call(self._pause_blocking)
            except BaseException as exc:
                future, self._pause_ready = self._pause_ready, None
                future.set_exception(exc)
                future.exception()  # retrieved: a later caller tries again
                raise
            self._pause_ready.set_result(image)
            return image
        return await asyncio.shield(self._pause_ready)

    def _pause_blocking(self) -> str:
        api = self._api
        image = self.pause_image
        with contextlib.suppress(docker.errors.ImageNotFound):
            api.inspect_image(image)
            return image
        repo, tag = split_image(image)
        try:
            api.pull(repo, tag=tag)
            return image
        except docker.errors.APIError as exc:
            if image != DEFAULT_PAUSE_IMAGE:
                raise ImagePullError(f'failed to get the pause image "{image}": {_explain(exc)}') from exc
            message = _explain(exc)
        with contextlib.suppress(docker.errors.ImageNotFound):
            api.inspect_image(BUILTIN_PAUSE_IMAGE)
            return BUILTIN_PAUSE_IMAGE
        data = pause_image_tar(platform.machine())
        if data is None:
            raise ImagePullError(f'failed to pull the pause image "{image}": {message}')
        repo, tag = split_image(BUILTIN_PAUSE_IMAGE)
        api.import_image_from_data(data, repository=repo, tag=tag, changes=['CMD ["/pause"]'])
        log.info("pause image %s could not be pulled (%s): built %s", image, message, BUILTIN_PAUSE_IMAGE)
        return BUILTIN_PAUSE_IMAGE

    # -- sandboxes ----------------------------------------------------------------------------

    async def run_sandbox(self, config: PodSandboxConfig) -> SandboxInfo:
        network_id = await self._ensure_network() if not config.host_network else ""
        image = await self._pause()
        pod = self._pods.setdefault(config.uid, _Pod())
        pod.attempts += 1
        attempt = pod.attempts - 1
        sandbox_id, ip, host_ports = await self._call(
            self._run_sandbox_blocking, config, image, network_id, attempt
        )
        self._sandboxes[sandbox_id] = _Sandbox(
            sandbox_id, config.uid, config.namespace, config.name, config.node, ip, host_ports
        )
        self._running.add(sandbox_id)
        return SandboxInfo(id=sandbox_id, ip=ip, host_ports=dict(host_ports))

    def _run_sandbox_blocking(
        self, config: PodSandboxConfig, image: str, network_id: str, attempt: int
    ) -> tuple[str, str, dict[tuple[int, str], int]]:
        api = self._api
        labels = self._pod_labels(config, "sandbox", "POD")
        ports: dict[str, tuple[str, int | None]] = {}
        if not config.host_network:
            for port, protocol in config.ports:
                ports[f"{int(port)}/{(protocol or 'TCP').lower()}"] = ("127.0.0.1", None)
            for port, protocol, host_port, host_ip in config.host_ports:
                # hostPort: a fixed port, on loopback unless the pod names another hostIP.
                address = host_ip if host_ip and host_ip != "0.0.0.0" else "127.0.0.1"
                ports[f"{int(port)}/{(protocol or 'TCP').lower()}"] = (address, int(host_port))
        host_config = api.create_host_config(
            network_mode="host" if config.host_network else self.network_name,
            port_bindings=ports or None,
            ipc_mode="shareable",
            dns_search=list(config.dns_search) or None,
            dns_opt=list(config.dns_options) or None,
            dns=list(config.dns_servers) or None,
            init=False,
        )
        kwargs: dict[str, Any] = {
            "image": image,
            "labels": labels,
            "host_config": host_config,
            "detach": True,
            "ports": [(int(p.split("/")[0]), p.split("/")[1]) for p in ports] or None,
        }
        if not config.host_network:
            kwargs["hostname"] = config.hostname[:63].rstrip("-.") or config.name[:63]
            if config.dns_names:
                endpoint = api.create_endpoint_config(aliases=list(config.dns_names))
                kwargs["networking_config"] = api.create_networking_config({self.network_name: endpoint})
        created = self._create_named(
            kwargs, lambda n: sandbox_name(config.namespace, config.name, config.uid, attempt + n)
        )
        sandbox_id = created["Id"]
        try:
            api.start(sandbox_id)
            attrs = api.inspect_container(sandbox_id)
        except Exception:
            with contextlib.suppress(Exception):
                api.remove_container(sandbox_id, force=True)
            raise
        settings = attrs.get("NetworkSettings") or {}
        ip = ""
        if not config.host_network:
            ip = ((settings.get("Networks") or {}).get(self.network_name) or {}).get("IPAddress") or ""
        return sandbox_id, ip, _host_ports(settings)

    def _create_named(self, kwargs: dict[str, Any], name_for: Callable[[int], str]) -> dict[str, Any]:
        """create_container under the first free dockershim-style name."""
        api = self._api
        for n in range(20):
            name = name_for(n)
            try:
                return api.create_container(name=name, **kwargs)
            except docker.errors.APIError as exc:
                if exc.status_code == 409 and "is already in use" in _explain(exc):
                    continue
                raise
        return api.create_container(name=f"{name_for(0)}_{uuid.uuid4().hex[:6]}", **kwargs)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        """Kill the containers still running in the sandbox, then remove the pause container."""
        members = [
            c.id for c in self._containers.values() if c.sandbox_id == sandbox_id and c.id in self._running
        ]
        if members:
            await asyncio.gather(*(self.stop_container(cid, 0) for cid in members), return_exceptions=True)
        self._sandboxes.pop(sandbox_id, None)
        self._running.discard(sandbox_id)
        with contextlib.suppress(NotFound):
            await self._call(self._api.remove_container, sandbox_id, force=True)

    # -- images ---------------------------------------------------------------------------------

    async def ensure_image(self, image: str, pull_policy: str) -> bool:
        if pull_policy == "Never" or pull_policy == "IfNotPresent":
            present = await self._image_present(image)
            if present:
                return False
            if pull_policy == "Never":
                error = ImagePullError(f'Container image "{image}" is not present with pull policy of Never')
                error.reason = "ErrImageNeverPull"
                raise error
        pending = self._pulls.get(image)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pulls[image] = future
        try:
            started = time.monotonic()
            attrs = await self._call(self._pull_blocking, image)
            self._images[image] = attrs
            self._pull_stats[image] = (time.monotonic() - started, int(attrs.get("Size") or 0))
            future.set_result(True)
            return True
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            self._pulls.pop(image, None)

    async def _image_present(self, image: str) -> bool:
        if image in self._images:
            return True
        try:
            attrs = await self._call(self._api.inspect_image, image)
        except NotFound:
            return False
        self._images[image] = attrs
        return True

    def _pull_blocking(self, image: str) -> dict[str, Any]:
        api = self._api
        repo, tag = split_image(image)
        try:
            for line in api.pull(repo, tag=tag, stream=True, decode=True):
                if isinstance(line, dict) and line.get("error"):
                    raise ImagePullError(_pull_message(image, str(line["error"])))
        except docker.errors.APIError as exc:
            raise ImagePullError(_pull_message(image, _explain(exc))) from exc
        return api.inspect_image(image)

    def image_pull_stats(self, image: str) -> tuple[float, int] | None:
        """(seconds, bytes) of the last pull of ``image`` (the kubelet's Pulled event)."""
        return self._pull_stats.get(image)

    # -- containers -------------------------------------------------------------------------------

    async def create_container(
        self, sandbox: SandboxInfo, pod: PodSandboxConfig, config: ContainerConfig
    ) -> str:
        if sandbox.id not in self._sandboxes:
            raise NotFound(f'sandbox "{sandbox.id}" not found')
        volumes = await self._prepare_volumes(pod, config.mounts)
        image_attrs = self._images.get(config.image) or {}
        stop_signal = ((image_attrs.get("Config") or {}).get("StopSignal")) or "SIGTERM"
        container_id = await self._call(self._create_blocking, sandbox.id, pod, config, volumes)
        self._containers[container_id] = _Container(
            container_id, pod.uid, sandbox.id, config.name, stop_signal
        )
        return container_id

    async def _prepare_volumes(self, pod: PodSandboxConfig, mounts: tuple[Mount, ...]) -> dict[str, str]:
        """Create the named volumes the mounts use (labelled); their host paths for subPaths."""
        paths: dict[str, str] = {}
        for mount in mounts:
            if mount.kind not in ("volume", "tmpfs"):
                continue
            name = self._volume_name(mount.source)
            if name not in self._volume_paths:
                pod_scoped = mount.source.startswith(pod.uid)
                labels = self._labels(
                    **{
                        LABEL_NAMESPACE: pod.namespace,
                        LABEL_POD: pod.name,
                        LABEL_UID: pod.uid if pod_scoped else "",
                        LABEL_NODE: pod.node,
                        LABEL_VOLUME: mount.source,
                        LABEL_KIND: "emptydir" if pod_scoped else "claim",
                    }
                )
                self._volume_paths[name] = await self._call(
                    self._volume_blocking, name, labels, mount.kind == "tmpfs"
                )
                if pod_scoped:
                    self._pods.setdefault(pod.uid, _Pod()).volumes.add(name)
            paths[name] = self._volume_paths[name]
        return paths

    def _volume_name(self, source: str) -> str:
        return docker_name(f"nbcluster-{self.cluster}-{source}")

    def _volume_blocking(self, name: str, labels: dict[str, str], tmpfs: bool) -> str:
        api = self._api
        try:
            return str(api.inspect_volume(name).get("Mountpoint") or "")
        except docker.errors.NotFound:
            pass
        options = {"type": "tmpfs", "device": "tmpfs"} if tmpfs else None
        created = api.create_volume(name, driver="local", driver_opts=options, labels=labels)
        return str(created.get("Mountpoint") or "")

    def _docker_mounts(self, mounts: tuple[Mount, ...], volumes: dict[str, str]) -> list[DockerMount]:
        result = []
        for mount in mounts:
            target = mount.container_path
            if mount.kind in ("volume", "tmpfs"):
                name = self._volume_name(mount.source)
                if mount.sub_path:
                    base = volumes.get(name) or ""
                    if not base:
                        raise BadRequest(f'volume "{mount.source}" has no host path for subPath')
                    source = _sub_path(base, mount.sub_path, create=True)
                    result.append(DockerMount(target, source, type="bind", read_only=mount.read_only))
                else:
                    result.append(DockerMount(target, name, type="volume", read_only=mount.read_only))
            else:
                source = mount.source
                if mount.sub_path:
                    source = _sub_path(source, mount.sub_path, create=False)
                result.append(DockerMount(target, source, type="bind", read_only=mount.read_only))
        return result

    def _create_blocking(
        self, sandbox_id: str, pod: PodSandboxConfig, config: ContainerConfig, volumes: dict[str, str]
    ) -> str:
        api = self._api
        labels = self._pod_labels(pod, "container", config.name)
        labels[LABEL_SANDBOX] = sandbox_id
        labels[LABEL_RESTART_COUNT] = str(config.restart_count)
        labels[LABEL_CONTAINER_TYPE] = config.annotations.get(CONTAINER_TYPE_HINT) or (
            "init" if config.init else "regular"
        )
        host_kwargs: dict[str, Any] = {
            "network_mode": f"container:{sandbox_id}",
            "ipc_mode": f"container:{sandbox_id}",
            "mounts": self._docker_mounts(config.mounts, volumes) or None,
        }
        if config.memory_limit_bytes:
            host_kwargs["mem_limit"] = int(config.memory_limit_bytes)
            host_kwargs["memswap_limit"] = int(config.memory_limit_bytes)
        if config.cpu_limit_millis:
            host_kwargs["nano_cpus"] = int(config.cpu_limit_millis) * 1_000_000
        host_config = api.create_host_config(**host_kwargs)
        kwargs: dict[str, Any] = {
            "image": config.image,
            "command": list(config.args) if config.args else None,
            "entrypoint": list(config.command) if config.command else None,
            "environment": [f"{k}={v}" for k, v in config.env.items()],
            "working_dir": config.working_dir or None,
            "labels": labels,
            "host_config": host_config,
            "tty": config.tty,
            "stdin_open": config.stdin,
            "detach": True,
        }
        created = self._create_named(
            kwargs,
            lambda n: (
                container_name(config.name, pod.namespace, pod.name, pod.uid, config.restart_count)
                + (f"_{n}" if n else "")
            ),
        )
        return str(created["Id"])

    async def start_container(self, container_id: str) -> None:
        if container_id in self._running:
            return
        self._exited.pop(container_id, None)
        self._running.add(container_id)
        try:
            await self._call(self._api.start, container_id)
        except BaseException:
            self._running.discard(container_id)
            raise

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        """The stop signal (SIGTERM), up to ``grace_seconds`` for the exit, then SIGKILL."""
        if container_id not in self._running:
            return
        record = self._containers.get(container_id)
        if grace_seconds > 0:
            signal = record.stop_signal if record is not None else "SIGTERM"
            if await self._signal(container_id, signal) and await self._wait_exit(
                container_id, grace_seconds
            ):
                return
        if await self._signal(container_id, "SIGKILL"):
            await self._wait_exit(container_id, 10.0)

    async def _signal(self, container_id: str, signal: str) -> bool:
        """Send ``signal``; False when the container is not running (any more)."""
        try:
            await self._call(self._api.kill, container_id, signal=signal)
        except NotFound:
            self._mark_exited(container_id)
            return False
        except BadRequest as exc:
            if "is not running" in exc.message:
                self._mark_exited(container_id)
                return False
            raise
        return True

    async def _wait_exit(self, container_id: str, timeout: float) -> bool:
        """Wait for the ``die`` event (checking with the daemon at the end); True once exited."""
        if container_id not in self._running:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._exit_waiters.setdefault(container_id, []).append(future)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except asyncio.TimeoutError:
            pass
        finally:
            waiters = self._exit_waiters.get(container_id)
            if waiters is not None:
                with contextlib.suppress(ValueError):
                    waiters.remove(future)
                if not waiters:
                    self._exit_waiters.pop(container_id, None)
        try:
            attrs = await self._call(self._api.inspect_container, container_id)
        except NotFound:
            self._mark_exited(container_id)
            return True
        if not (attrs.get("State") or {}).get("Running"):
            self._on_die(container_id)
            return True
        return False

    def _mark_exited(self, container_id: str) -> None:
        if container_id in self._running:
            self._on_die(container_id)

    async def remove_container(self, container_id: str) -> None:
        self._containers.pop(container_id, None)
        self._exited.pop(container_id, None)
        self._running.discard(container_id)
        await self._remove_quietly(container_id)

    async def container_status(self, container_id: str) -> ContainerStatus:
        cached = self._exited.get(container_id)
        if cached is not None:
            return cached
        attrs = await self._call(self._api.inspect_container, container_id)
        status = self._status(attrs)
        if status.state is ContainerState.EXITED:
            self._exited[container_id] = status
            if container_id in self._running:
                self._on_die(container_id)
        return status

    def _status(self, attrs: dict[str, Any]) -> ContainerStatus:
        state = attrs.get("State") or {}
        docker_state = state.get("Status") or ""
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        image = (attrs.get("Config") or {}).get("Image") or ""
        if docker_state in ("running", "paused", "restarting"):
            kind = ContainerState.RUNNING
        elif docker_state in ("exited", "dead"):
            kind = ContainerState.EXITED
        elif docker_state == "created":
            kind = ContainerState.CREATED
        else:
            kind = ContainerState.UNKNOWN
        exit_code = reason = message = None
        if kind is ContainerState.EXITED:
            exit_code = int(state.get("ExitCode") or 0)
            if state.get("OOMKilled"):
                reason = "OOMKilled"
            else:
                reason = "Completed" if exit_code == 0 else "Error"
            message = state.get("Error") or None
        return ContainerStatus(
            id=str(attrs.get("Id")),
            name=labels.get(LABEL_CONTAINER) or str(attrs.get("Name", "")).lstrip("/"),
            state=kind,
            exit_code=exit_code,
            reason=reason,
            message=message,
            started_at=parse_docker_time(state.get("StartedAt")),
            finished_at=parse_docker_time(state.get("FinishedAt")) if kind is ContainerState.EXITED else None,
            image=image,
            image_id=self._image_id(image, str(attrs.get("Image") or "")),
        )

    def _image_id(self, image: str, image_sha: str) -> str:
        attrs = self._images.get(image) or {}
        digests = attrs.get("RepoDigests") or []
        if digests:
            return f"docker-pullable://{digests[0]}"
        return f"docker://{image_sha}" if image_sha else ""

    # -- logs and exec -----------------------------------------------------------------------------

    async def logs(self, container_id: str, *, tail: int | None = None) -> str:
        data = await self._call(
            self._api.logs,
            container_id,
            stdout=True,
            stderr=True,
            tail=tail if tail is not None and tail >= 0 else "all",
        )
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)

    async def stream_logs(self, container_id: str, *, tail: int | None = None) -> AsyncIterator[str]:
        """``kubectl logs -f``: text as the container writes it, until it exits (or the
        caller stops iterating: the stream's connection is closed then)."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        stream = await self._call(
            self._api.logs,
            container_id,
            stdout=True,
            stderr=True,
            stream=True,
            follow=True,
            tail=tail if tail is not None and tail >= 0 else "all",
        )

        def pump() -> None:
            try:
                for chunk in stream:
                    loop.call_soon_threadsafe(queue.put_nowait, chunk.decode("utf-8", "replace"))
            except Exception as exc:  # the connection was closed: the end
                log.debug("log stream of %s ended: %s", container_id, exc)
            finally:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(queue.put_nowait, None)

        thread = threading.Thread(target=pump, name=f"nbcluster-logs-{container_id[:12]}", daemon=True)
        thread.start()
        try:
            while True:
                text = await queue.get()
                if text is None:
                    return
                yield text
        finally:
            with contextlib.suppress(Exception):
                stream.close()

    async def exec(self, container_id: str, command: list[str], *, timeout: float = 10.0) -> ExecResult:
        return await self._call(self._exec_blocking, container_id, list(command), timeout)

    def _exec_blocking(self, container_id: str, command: list[str], timeout: float) -> ExecResult:
        api = self._api
        deadline = time.monotonic() + max(timeout, 0.1)
        exec_id = api.exec_create(container_id, command, stdout=True, stderr=True)["Id"]
        sock = api.exec_start(exec_id, socket=True)
        try:
            data, timed_out = read_exec_stream(sock, deadline)
        finally:
            with contextlib.suppress(Exception):
                sock.close()
            response = getattr(sock, "_response", None)
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()
        output = data.decode("utf-8", "replace")
        if timed_out:
            return ExecResult(-1, f"command {' '.join(command)!r} timed out".replace("'", '"'))
        for _ in range(50):
            result = api.exec_inspect(exec_id)
            if not result.get("Running"):
                code = result.get("ExitCode")
                return ExecResult(int(code) if code is not None else -1, output)
            time.sleep(0.02)
        return ExecResult(-1, output)

    # -- probes ------------------------------------------------------------------------------------------

    def _host_port(self, sandbox: SandboxInfo, port: int) -> int | None:
        host_port = sandbox.host_ports.get((port, "TCP"))
        if host_port is None:
            known = self._sandboxes.get(sandbox.id)
            if known is not None:
                host_port = known.host_ports.get((port, "TCP"))
        return host_port

    async def probe_http(
        self,
        sandbox: SandboxInfo,
        container_id: str,
        *,
        port: int,
        path: str,
        scheme: str,
        headers: dict[str, str],
        timeout: float,
    ) -> ProbeResult:
        host_port = self._host_port(sandbox, port)
        if host_port is None:
            return await self._probe_by_exec(
                container_id,
                [
                    "wget",
                    "-q",
                    "-O",
                    "/dev/null",
                    "-T",
                    str(max(1, int(timeout))),
                    f"{(scheme or 'http').lower()}://127.0.0.1:{port}{path or '/'}",
                ],
                timeout,
                f"port {port} is not published by the pod sandbox",
            )
        return await self._call(
            http_probe,
            host_port,
            pod_ip=sandbox.ip or "127.0.0.1",
            port=port,
            path=path or "/",
            scheme=scheme,
            headers=headers,
            timeout=timeout,
        )

    async def probe_tcp(
        self, sandbox: SandboxInfo, container_id: str, *, port: int, timeout: float
    ) -> ProbeResult:
        host_port = self._host_port(sandbox, port)
        if host_port is None:
            return await self._probe_by_exec(
                container_id,
                ["nc", "-z", "-w", str(max(1, int(timeout))), "127.0.0.1", str(port)],
                timeout,
                f"port {port} is not published by the pod sandbox",
            )
        return await self._call(
            tcp_probe, host_port, pod_ip=sandbox.ip or "127.0.0.1", port=port, timeout=timeout
        )

    async def _probe_by_exec(
        self, container_id: str, command: list[str], timeout: float, why: str
    ) -> ProbeResult:
        """Probe from inside the pod (its tools) when the port is not published."""
        try:
            result = await self.exec(container_id, command, timeout=timeout + 1)
        except NbClusterError as exc:
            return ProbeResult(False, f"{why}: {exc}")
        if result.exit_code == 0:
            return ProbeResult(True)
        return ProbeResult(
            False, result.output.strip() or f"{why}: {' '.join(command)} exited {result.exit_code}"
        )

    # -- events ------------------------------------------------------------------------------------------

    def _start_events(self) -> None:
        self._events_since = time.time()
        thread = threading.Thread(
            target=self._events_main, name=f"nbcluster-docker-events-{self.cluster}", daemon=True
        )
        self._events_thread = thread
        thread.start()

    def _stop_events(self) -> None:
        stream, self._events_stream = self._events_stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
        thread, self._events_thread = self._events_thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _events_main(self) -> None:
        """The event reader (its own thread and HTTP client): reconnects until closed."""
        delay = 0.5
        reconnecting = False
        while not self._closing:
            client = None
            try:
                client = self._make_client(pool=2, timeout=10)
                client.ping()
                stream = client.api.events(
                    since=self._events_since,
                    decode=True,
                    filters={
                        "type": "container",
                        "label": f"{LABEL_CLUSTER}={self.cluster}",
                        "event": _EVENTS,
                    },
                )
                self._events_stream = stream
                if self._closing:
                    break
                self._call_soon(self._daemon_back, reconnecting)
                delay = 0.5
                for event in stream:
                    if self._closing:
                        break
                    stamp = event.get("timeNano")
                    if stamp:
                        self._events_since = int(stamp) / 1e9
                    self._call_soon(self._on_event, event)
            except Exception as exc:  # the daemon went away: try again (the loop decides)
                if not self._closing:
                    log.debug("docker events: %s", exc)
            finally:
                self._events_stream = None
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close()
            if self._closing:
                break
            reconnecting = True
            self._call_soon(self._daemon_lost)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(fn, *args)

    def _daemon_lost(self) -> None:
        """The event stream broke and no new one connects: tell the kubelet (once)."""
        self._daemon_up = False
        if self._closing or self._runtime_problem is not None:
            return
        log.warning("the Docker daemon at %s stopped answering", self.base_url)
        message = f"docker: failed to get docker version: {self._unreachable().message}"
        self._runtime_problem = ("DockerDaemonNotReady", message)
        self._tell_state("DockerDaemonNotReady", message)

    def _daemon_back(self, reconnecting: bool) -> None:
        self._daemon_up = True
        if self._closing or (not reconnecting and self._runtime_problem is None):
            return
        log.warning("the Docker daemon at %s answers again: checking containers", self.base_url)
        # A daemon started afresh may have lost images; look again rather than trust the cache.
        self._images.clear()
        self._pause_ready = None
        assert self._loop is not None
        self._resync_task = self._loop.create_task(self._resync())  # held: a bare task may be GC'd

    async def _resync(self) -> None:
        """After an outage: every container believed running is inspected once (a restarted
        daemon without live-restore killed them, and says so by no event), then the kubelet
        hears that the runtime is ready again."""
        ids = list(self._running)
        results = await asyncio.gather(
            *(self._call(self._api.inspect_container, cid) for cid in ids), return_exceptions=True
        )
        for container_id, result in zip(ids, results):
            if isinstance(result, NotFound):
                self._on_die(container_id)
            elif isinstance(result, RuntimeUnavailable):
                # The daemon went away again: the next reconnection checks once more.
                log.info("checking container %s after the outage: %s", container_id[:12], result)
                return
            elif isinstance(result, BaseException):  # one container's trouble: not the daemon's
                log.info("checking container %s after the outage: %s", container_id[:12], result)
            elif not (result.get("State") or {}).get("Running"):
                self._on_die(container_id)
        if self._daemon_up and self._runtime_problem is not None and not self._closing:
            self._runtime_problem = None
            self._tell_state(None, "")

    def _tell_state(self, reason: str | None, message: str) -> None:
        for callback in list(self._state_callbacks):
            try:
                callback(reason, message)
            except Exception:  # a listener's bug must not break the runtime
                log.exception("runtime state callback failed")

    def _on_event(self, event: dict[str, Any]) -> None:
        action = event.get("status") or event.get("Action") or ""
        container_id = event.get("id") or (event.get("Actor") or {}).get("ID") or ""
        if action in ("die", "destroy"):
            self._on_die(container_id)

    def _on_die(self, container_id: str) -> None:
        """A container (or sandbox) exited: wake stop waiters, tell the kubelet."""
        if container_id not in self._running:
            return
        self._running.discard(container_id)
        sandbox = self._sandboxes.get(container_id)
        if sandbox is not None:
            sandbox.ready = False
        for waiter in self._exit_waiters.pop(container_id, ()):
            if not waiter.done():
                waiter.set_result(None)
        if self._closing:
            return
        if container_id in self._containers or sandbox is not None:
            for callback in list(self._callbacks):
                try:
                    callback(container_id)
                except Exception:  # a listener's bug must not break the runtime
                    log.exception("container exit callback failed")

    # -- leftovers and adoption ------------------------------------------------------------------------

    async def _scan_leftovers(self) -> None:
        self._leftovers = {}
        for leftover in await self.list_leftovers():
            self._leftovers.setdefault(leftover.uid, []).append(leftover)

    async def list_leftovers(self) -> list[Leftover]:
        """Containers of this cluster in Docker that this runtime has not made or adopted."""
        label = f"{LABEL_CLUSTER}={self.cluster}"
        found = await self._call(self._api.containers, all=True, filters={"label": label})
        result = []
        for item in found:
            if item["Id"] in self._containers or item["Id"] in self._sandboxes:
                continue
            labels = item.get("Labels") or {}
            if is_forwarder(labels, self.cluster):  # a Service's, not a pod's: kube-proxy syncs it
                continue
            result.append(
                Leftover(
                    id=item["Id"],
                    kind=labels.get(LABEL_KIND, "container"),
                    namespace=labels.get(LABEL_NAMESPACE, ""),
                    pod=labels.get(LABEL_POD, ""),
                    uid=labels.get(LABEL_UID, ""),
                    container=labels.get(LABEL_CONTAINER, ""),
                    node=labels.get(LABEL_NODE, ""),
                    state=str(item.get("State") or ""),
                    restart_count=_int(labels.get(LABEL_RESTART_COUNT)),
                    sandbox=labels.get(LABEL_SANDBOX, ""),
                    created=float(item.get("Created") or 0),
                )
            )
        return result

    def has_leftovers(self, uid: str) -> bool:
        return uid in self._leftovers

    async def adopt_pod(self, uid: str) -> AdoptedPod | None:
        """Take over what an earlier runtime left of pod ``uid`` (None when nothing).

        The newest running sandbox is kept (others removed, with containers running in
        them killed); per container name the newest two instances are kept, older removed.
        """
        leftovers = self._leftovers.pop(uid, None)
        if not leftovers:
            return None
        sandboxes = sorted((x for x in leftovers if x.kind == "sandbox"), key=lambda x: -x.created)
        containers = sorted((x for x in leftovers if x.kind != "sandbox"), key=lambda x: -x.created)
        live = next((s for s in sandboxes if s.state == "running"), None)
        for stale in sandboxes:
            if stale is not live:
                await self._remove_quietly(stale.id)
        sandbox_info = None
        if live is not None:
            attrs = await self._call(self._api.inspect_container, live.id)
            settings = attrs.get("NetworkSettings") or {}
            ip = ((settings.get("Networks") or {}).get(self.network_name) or {}).get("IPAddress") or ""
            host_ports = _host_ports(settings)
            self._sandboxes[live.id] = _Sandbox(
                live.id, uid, live.namespace, live.pod, live.node, ip, host_ports
            )
            self._running.add(live.id)
            sandbox_info = SandboxInfo(id=live.id, ip=ip, host_ports=dict(host_ports))
        pod = self._pods.setdefault(uid, _Pod())
        pod.attempts = max(pod.attempts, len(sandboxes))
        kept: dict[str, int] = {}
        adopted: list[AdoptedContainer] = []
        for item in containers:
            if kept.get(item.container, 0) >= 2:
                await self._remove_quietly(item.id)
                continue
            if item.state == "running" and (live is None or item.sandbox != live.id):
                with contextlib.suppress(NbClusterError):
                    await self._call(self._api.kill, item.id)
            try:
                attrs = await self._call(self._api.inspect_container, item.id)
            except NotFound:
                continue
            status = self._status(attrs)
            kept[item.container] = kept.get(item.container, 0) + 1
            self._containers[item.id] = _Container(item.id, uid, item.sandbox, item.container)
            if status.state is ContainerState.RUNNING:
                self._running.add(item.id)
            elif status.state is ContainerState.EXITED:
                self._exited[item.id] = status
            labels = (attrs.get("Config") or {}).get("Labels") or {}
            adopted.append(
                AdoptedContainer(
                    id=item.id,
                    name=item.container,
                    container_type=labels.get(LABEL_CONTAINER_TYPE, "regular"),
                    restart_count=item.restart_count,
                    status=status,
                )
            )
        return AdoptedPod(sandbox=sandbox_info, containers=tuple(adopted))

    async def remove_leftovers(
        self, *, node: str | None = None, keep: set[str] | frozenset[str] = frozenset()
    ) -> int:
        """Remove unclaimed leftovers (of ``node`` only, if given) whose pod uid is not in
        ``keep``, with their emptyDir volumes; returns how many containers went."""
        doomed: list[Leftover] = []
        for uid in list(self._leftovers):
            if uid in keep:
                continue
            items = self._leftovers[uid]
            if node is not None and not any(x.node == node for x in items):
                continue
            doomed.extend(items)
            del self._leftovers[uid]
        await asyncio.gather(*(self._remove_quietly(x.id) for x in doomed), return_exceptions=True)
        for uid in {x.uid for x in doomed if x.uid}:
            await self._remove_pod_volumes(uid)
        return len(doomed)

    async def release_pod(self, uid: str) -> None:
        """The pod is gone: remove its emptyDir volumes and its files (not its claims)."""
        self._pods.pop(uid, None)
        await self._remove_pod_volumes(uid)
        if self._root is not None:
            shutil.rmtree(self._root / "pods" / uid, ignore_errors=True)

    async def _remove_pod_volumes(self, uid: str) -> None:
        label = [f"{LABEL_CLUSTER}={self.cluster}", f"{LABEL_UID}={uid}"]
        try:
            volumes = (await self._call(self._api.volumes, filters={"label": label})).get("Volumes") or []
        except NbClusterError as exc:
            log.info("listing the volumes of pod %s: %s", uid, exc)
            return
        for volume in volumes:
            self._volume_paths.pop(volume["Name"], None)
            try:
                await self._call(self._remove_volume, volume["Name"])
            except NbClusterError as exc:
                log.info("removing volume %s: %s", volume["Name"], exc)


def _subnets(network: dict[str, Any]) -> list[str]:
    return [c["Subnet"] for c in ((network.get("IPAM") or {}).get("Config") or []) if c.get("Subnet")]


def _existing_plan(network: dict[str, Any]) -> NetworkPlan | None:
    """The plan of the cluster's own network: only one this code planned has a service range."""
    if not (network.get("Labels") or {}).get(LABEL_SERVICE_CIDR):
        return None
    own = [subnet for subnet in _subnets(network) if ":" not in subnet]
    return plan_for(own[0]) if own else None


def _quietly(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(Exception):
        fn(*args, **kwargs)


def _explain(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc)


def _pull_message(image: str, explanation: str) -> str:
    """The daemon's words, wrapped as a CRI error that names the image."""
    return f'rpc error: code = Unknown desc = failed to pull image "{image}": Error response from daemon: {explanation}'


def _host_ports(settings: dict[str, Any]) -> dict[tuple[int, str], int]:
    ports: dict[tuple[int, str], int] = {}
    for key, bindings in (settings.get("Ports") or {}).items():
        if not bindings:
            continue
        number, _, protocol = key.partition("/")
        for binding in bindings:
            if binding.get("HostIp") in ("127.0.0.1", "", "0.0.0.0") and binding.get("HostPort"):
                ports[(int(number), (protocol or "tcp").upper())] = int(binding["HostPort"])
                break
    return ports


def _sub_path(base: str, sub_path: str, *, create: bool) -> str:
    """``base/sub_path``, refusing paths that leave ``base`` (as kubelet does)."""
    parts = [p for p in sub_path.split("/") if p not in ("", ".")]
    if ".." in parts or sub_path.startswith("/"):
        raise BadRequest(f'subPath "{sub_path}" must be a relative path without ".."')
    path = os.path.join(base, *parts)
    if create:
        os.makedirs(path, exist_ok=True)
    return path


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0
