"""What the kubelet remembers about its nodes, pods and containers. Plain state, no I/O.

Like kubelet's runtime cache, pod workers and reason cache, kept in memory: the stored
objects live in the API server, the containers in the runtime, and these records tie
the two together between syncs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbcluster.runtime.interface import ContainerState, ContainerStatus, PodSandboxConfig, SandboxInfo

if TYPE_CHECKING:
    from nbcluster.control.events import EventRecorder
    from nbcluster.control.kubelet.timers import TimerHandle

__all__ = ["ContainerRecord", "Kubelet", "PodRecord", "field_path"]

Obj = dict[str, Any]


def field_path(kind: str, name: str) -> str:
    """The ``involvedObject.fieldPath`` of a container's events."""
    return f"spec.initContainers{{{name}}}" if kind in ("init", "sidecar") else f"spec.containers{{{name}}}"


class Kubelet:
    """One node's kubelet: its Node identity, its event recorder and the pods bound to it.

    The :class:`~nbcluster.control.kubelet.manager.KubeletManager` runs every node's
    kubelet on one subscription, one timer heap and one pod-sync machinery (as KWOK runs
    many nodes from one controller); this object is what is per node.
    """

    __slots__ = (
        "allocatable",
        "index",
        "ip",
        "last_status_report",
        "name",
        "pod_cidr",
        "recorder",
        "records",
        "stopped",
        "uid",
    )

    def __init__(self, name: str, index: int, pod_cidr: str, ip: str, recorder: EventRecorder) -> None:
        self.name = name
        self.index = index
        self.pod_cidr = pod_cidr
        self.ip = ip
        self.recorder = recorder
        self.allocatable: dict[str, str] = {}
        self.uid = ""
        self.stopped = False
        self.last_status_report = 0.0
        self.records: dict[str, PodRecord] = {}


class ContainerRecord:
    """The current instance of one container of a pod."""

    __slots__ = (
        "id",
        "kind",
        "liveness",
        "name",
        "probes",
        "readiness",
        "restart_count",
        "spec",
        "started_mono",
        "startup",
        "status",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        spec: Obj,
        container_id: str,
        status: ContainerStatus,
        restart_count: int,
        started_mono: float,
    ) -> None:
        self.name = name
        self.kind = kind  # init | sidecar | regular
        self.spec = spec
        self.id = container_id
        self.status = status
        self.restart_count = restart_count
        self.started_mono = started_mono
        self.liveness: bool | None = None
        self.startup: bool | None = None
        self.readiness: bool | None = None
        self.probes: list[Any] | None = None

    @property
    def running(self) -> bool:
        return self.status.state is ContainerState.RUNNING

    @property
    def started(self) -> bool:
        """kubelet's ``started``: running and past its startup probe (if any)."""
        if not self.running:
            return False
        return self.spec.get("startupProbe") is None or self.startup is True

    @property
    def ready(self) -> bool:
        if self.kind == "init":
            return self.status.state is ContainerState.EXITED and self.status.exit_code == 0
        if not self.started:
            return False
        return self.spec.get("readinessProbe") is None or self.readiness is True


class PodRecord:
    """One pod on one node: its sandbox, container instances and kubelet bookkeeping."""

    __slots__ = (
        "blocked",
        "current",
        "dirty",
        "finalized",
        "name",
        "namespace",
        "node",
        "pod",
        "previous",
        "reasons",
        "retry",
        "running",
        "sandbox",
        "sandbox_attempts",
        "sandbox_config",
        "stale",
        "start_time",
        "starts",
        "terminal",
        "terminating",
        "uid",
        "volume_dirs",
        "volume_wait_since",
    )

    def __init__(self, pod: Obj, node: Kubelet) -> None:
        meta = pod["metadata"]
        self.uid: str = meta["uid"]
        self.namespace: str = meta.get("namespace", "default")
        self.name: str = meta["name"]
        self.node = node
        self.pod: Obj | None = pod
        self.sandbox: SandboxInfo | None = None
        self.sandbox_config: PodSandboxConfig | None = None
        self.sandbox_attempts = 0
        self.current: dict[str, ContainerRecord] = {}
        #: The instance before the current one (what ``logs --previous`` shows).
        self.previous: dict[str, ContainerStatus] = {}
        #: How many instances of each container were started (the next restartCount).
        self.starts: dict[str, int] = {}
        #: kubelet's reasonCache: why a container could not be started last time.
        self.reasons: dict[str, tuple[str, str]] = {}
        self.start_time: str | None = None
        self.terminal = False
        self.terminating = False
        self.finalized = False
        self.dirty = False
        self.running = False
        self.stale = False
        self.retry: TimerHandle | None = None
        self.blocked: set[tuple[str, str]] = set()
        self.volume_wait_since: float | None = None
        #: volume name -> host folder of its files (runtimes with a pod directory only)
        self.volume_dirs: dict[str, str] | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def format(self) -> str:
        """kubelet's ``format.Pod``: ``name_namespace(uid)``."""
        return f"{self.name}_{self.namespace}({self.uid})"

    def container_ids(self) -> list[str]:
        ids = [c.id for c in self.current.values()]
        ids += [s.id for s in self.previous.values()]
        return ids
