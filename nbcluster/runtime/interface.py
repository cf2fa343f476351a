"""The runtime interface the kubelet drives (a small CRI). Declarations only, no I/O.

Three implementations: ``docker`` (real containers), ``process`` (local processes)
and ``simulated`` (no processes, KWOK-style). The kubelet decides; the runtime does.
All methods are coroutines run on the control plane's loop; blocking runtimes
(docker-py) hop to threads inside. Foreign errors are converted at this boundary:
``RuntimeUnavailable`` (daemon gone), ``ImagePullError`` (image missing), ``NotFound``
(container gone).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from nbcluster.errors import NbClusterError

__all__ = [
    "ContainerConfig",
    "ContainerState",
    "ContainerStats",
    "ContainerStatus",
    "ExecResult",
    "ImagePullError",
    "Mount",
    "PodSandboxConfig",
    "ProbeResult",
    "Runtime",
    "SandboxInfo",
    "ServiceConfig",
    "ServicePortConfig",
]


class ImagePullError(NbClusterError):
    """The image could not be had; ``message`` is the daemon's own words."""

    reason = "ErrImagePull"


class ContainerState(str, Enum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PodSandboxConfig:
    """What a sandbox needs to know about its pod."""

    namespace: str
    name: str
    uid: str
    node: str
    hostname: str
    #: (containerPort, protocol) pairs to publish on 127.0.0.1.
    ports: tuple[tuple[int, str], ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    dns_search: tuple[str, ...] = ()
    #: resolv.conf options (Kubernetes' ClusterFirst policy sets ``ndots:5``).
    dns_options: tuple[str, ...] = ()
    #: Extra nameservers (``dnsConfig.nameservers``); none: the runtime's own resolver.
    dns_servers: tuple[str, ...] = ()
    #: Names other pods resolve to this pod's address (``web-0.nginx.ns.svc.cluster.local``,
    #: headless Services that select it); only runtimes with ``cluster_dns`` use them.
    dns_names: tuple[str, ...] = ()
    #: (containerPort, protocol, hostPort, hostIP) for ports with a ``hostPort``.
    host_ports: tuple[tuple[int, str, int, str], ...] = ()
    host_network: bool = False


@dataclass(frozen=True)
class ServicePortConfig:
    """One TCP port of a Service and the ready endpoints (pod IP, target port) behind it."""

    name: str
    port: int
    endpoints: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ServiceConfig:
    """What a runtime with a cluster network needs to make a Service reachable in it."""

    namespace: str
    name: str
    uid: str
    cluster_ip: str
    ports: tuple[ServicePortConfig, ...] = ()

    @property
    def dns_name(self) -> str:
        return f"{self.name}.{self.namespace}.svc.cluster.local"


@dataclass(frozen=True)
class SandboxInfo:
    id: str
    ip: str
    #: (containerPort, protocol) -> host port on 127.0.0.1.
    host_ports: dict[tuple[int, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Mount:
    """A volume as the runtime sees it: a host path (or named volume) at a container path."""

    container_path: str
    source: str
    read_only: bool = False
    kind: str = "bind"  # bind | volume | tmpfs
    sub_path: str = ""


@dataclass(frozen=True)
class ContainerConfig:
    name: str
    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    mounts: tuple[Mount, ...] = ()
    cpu_limit_millis: int | None = None
    memory_limit_bytes: int | None = None
    init: bool = False
    tty: bool = False
    stdin: bool = False
    #: The pod's annotations, for the simulated runtime's scripted behaviour.
    annotations: dict[str, str] = field(default_factory=dict)
    restart_count: int = 0


@dataclass(frozen=True)
class ContainerStatus:
    id: str
    name: str
    state: ContainerState
    exit_code: int | None = None
    #: Completed, Error, OOMKilled (for exited containers).
    reason: str | None = None
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    image: str = ""
    image_id: str = ""


@dataclass(frozen=True, slots=True)
class ContainerStats:
    """One container's counters at one moment (CRI ``ContainerStats``)."""

    cpu_usage_ns: int
    memory_working_set_bytes: int


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str


@dataclass(frozen=True)
class ProbeResult:
    success: bool
    message: str = ""


class Runtime:
    """Interface every runtime implements (all coroutines but the callback registration)."""

    #: docker | process | simulated
    name: str = "runtime"
    #: True when pods resolve Service names and reach ClusterIPs inside the runtime's own
    #: network (the kubelet then gives sandboxes ``dns_names``; kube-proxy calls
    #: :meth:`sync_service`).
    cluster_dns: bool = False
    #: True when :meth:`container_stats` measures real usage (metrics-server reads it).
    measures_usage: bool = False

    async def start(self) -> None:
        """Connect (and fail with RuntimeUnavailable if the backend does not answer)."""

    async def close(self) -> None:
        """Stop and remove every sandbox and container this runtime made."""

    def on_container_exit(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(container_id)`` when a container stops (event-driven status)."""
        raise NotImplementedError

    async def run_sandbox(self, config: PodSandboxConfig) -> SandboxInfo:
        raise NotImplementedError

    async def remove_sandbox(self, sandbox_id: str) -> None:
        raise NotImplementedError

    async def ensure_image(self, image: str, pull_policy: str) -> bool:
        """Make ``image`` present per the policy; True if it was pulled. Raises ImagePullError."""
        raise NotImplementedError

    async def create_container(
        self, sandbox: SandboxInfo, pod: PodSandboxConfig, config: ContainerConfig
    ) -> str:
        raise NotImplementedError

    async def start_container(self, container_id: str) -> None:
        raise NotImplementedError

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        """SIGTERM, wait up to the grace period, then SIGKILL."""
        raise NotImplementedError

    async def remove_container(self, container_id: str) -> None:
        raise NotImplementedError

    async def container_status(self, container_id: str) -> ContainerStatus:
        raise NotImplementedError

    async def logs(self, container_id: str, *, tail: int | None = None) -> str:
        raise NotImplementedError

    def stream_logs(self, container_id: str, *, tail: int | None = None) -> AsyncIterator[str]:
        """``logs -f``: the text (the last ``tail`` lines first), then what the container
        writes as it writes it, in chunks (not lines); ends when the container has exited.
        Stopping the iteration (``aclose``, cancelling) releases the stream."""
        raise NotImplementedError

    async def exec(self, container_id: str, command: list[str], *, timeout: float = 10.0) -> ExecResult:
        raise NotImplementedError

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
        raise NotImplementedError

    async def probe_tcp(
        self, sandbox: SandboxInfo, container_id: str, *, port: int, timeout: float
    ) -> ProbeResult:
        raise NotImplementedError

    async def container_stats(self, container_ids: list[str]) -> dict[str, ContainerStats]:
        """Cumulative CPU and memory working set of running containers (missing ones left out)."""
        raise NotImplementedError

    async def sync_service(self, config: ServiceConfig) -> None:
        """Make the Service answer on its ClusterIP and name inside the cluster network.

        Only runtimes with ``cluster_dns`` are called; the others have no network to serve."""
        raise NotImplementedError

    async def remove_service(self, namespace: str, name: str) -> None:
        raise NotImplementedError

    def node_capacity(self) -> dict[str, str]:
        """cpu / memory / pods a node of this runtime offers (simulated: configurable)."""
        return {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"}
