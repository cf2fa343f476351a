"""The simulated runtime: KWOK-style containers with no processes. No I/O.

Everything happens on the injected clock and is deterministic: container ids come from a
counter, pod IPs from the node's pod CIDR in order, and every scripted behaviour is read
from the pod's annotations. One :class:`SimulatedRuntime` serves any number of nodes.

Default behaviour
-----------------
* Time is the injected clock; a runtime made without one follows the clock of the kubelets
  that drive it (:meth:`SimulatedRuntime.adopt_clock`), so a sped-up cluster speeds it up too.
* Containers of pods with ``restartPolicy: Always`` (and native sidecars, i.e. init
  containers with ``restartPolicy: Always``) run until they are stopped.
* Containers of ``OnFailure`` / ``Never`` pods (Jobs) exit 0 after ``job_duration``
  seconds of clock time (default 1 s).
* Init containers exit 0 after ``init_duration`` seconds (default 0.1 s).
* A stopped container (``stop_container``) exits at once with code 0 (it handles SIGTERM);
  a grace period of 0 kills it: exit code 137, reason ``Error``.
* Images are always present, except those in ``missing_images`` and any image whose name
  contains ``does-not-exist``: pulling those raises :class:`ImagePullError` with
  containerd's words. ``ensure_image`` reports a pull for ``imagePullPolicy: Always``.
* Pod IPs come from the node's pod CIDR (``10.244.N.2`` upwards; the kubelet tells the
  runtime the CIDR with :meth:`SimulatedRuntime.set_node_pod_cidr`), host ports are fake
  (40000 upwards), probes succeed while the container runs.
* ``logs()`` returns a short start-up line (``stream_logs()`` yields it and ends when the
  container exits); ``exec()`` returns ``ExecResult(0, "")`` except
  for a few built-ins that read the container's config: ``env`` / ``printenv [NAME]``,
  ``echo ARGS``, ``hostname`` and ``cat /etc/hostname``.

Scripting with pod annotations
------------------------------
Each key applies to one container when suffixed with ``.<container name>``; without a
suffix it applies to every regular container (``spec.containers``), not to init containers
or sidecars, which are scripted by name only.

``sim.nbcluster.io/duration[.<c>]``
    seconds until the container exits (also makes ``Always`` containers exit: restarts and
    CrashLoopBackOff follow).
``sim.nbcluster.io/duration[.<c>]: inf``
    runs until stopped, whatever the restart policy.
``sim.nbcluster.io/exit-code[.<c>]``
    the exit code when it exits; a non-zero code without a duration exits after
    ``job_duration`` seconds whatever the restart policy.
``sim.nbcluster.io/exit-code-by-index[.<c>]: "0:1,2:1"``
    for the pods of an Indexed Job: the exit code by completion index (the pod's
    ``batch.kubernetes.io/job-completion-index``); other indexes use ``exit-code``.
``sim.nbcluster.io/oom[.<c>]: "true"``
    exit 137 with reason ``OOMKilled`` (after the duration, default ``job_duration``).
``sim.nbcluster.io/fail-probe[.<c>]: liveness,readiness,startup``
    those probes fail (comma list); ``sim.nbcluster.io/fail-probe-after: <seconds>`` makes
    them succeed until the container has run that long.
``sim.nbcluster.io/logs[.<c>]``
    the text the container "prints" (what ``kubectl logs`` shows).
``sim.nbcluster.io/exec-exit-code[.<c>]``
    the exit code of every ``exec`` (exec probes and hooks included).
``sim.nbcluster.io/shutdown-seconds[.<c>]``
    seconds the container takes to exit after SIGTERM (``inf`` ignores SIGTERM); past the
    grace period it is killed with 137.

Kubelet hints read from :attr:`ContainerConfig.annotations` besides the pod's own:
``nbcluster.io/restart-policy`` (the effective policy: the pod's, or ``Always`` for a
sidecar) and ``nbcluster.io/container-type`` (``init`` | ``sidecar`` | ``regular``).
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nbcluster.errors import BadRequest, NotFound
from nbcluster.runtime.interface import (
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    ExecResult,
    ImagePullError,
    PodSandboxConfig,
    ProbeResult,
    Runtime,
    SandboxInfo,
)
from nbcluster.util.clock import Clock, RealClock

__all__ = ["ANNOTATION_PREFIX", "SimulatedRuntime", "normalize_image"]

log = logging.getLogger("nbcluster.runtime.simulated")

ANNOTATION_PREFIX = "sim.nbcluster.io/"
RESTART_POLICY_HINT = "nbcluster.io/restart-policy"
#: An Indexed Job's pods carry their completion index here (annotation and label).
JOB_INDEX_KEY = "batch.kubernetes.io/job-completion-index"
CONTAINER_TYPE_HINT = "nbcluster.io/container-type"

_DEFAULT_CAPACITY = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"}


def normalize_image(image: str) -> str:
    """``nginx`` -> ``docker.io/library/nginx:latest`` (what containerd reports)."""
    name, digest = ([*image.split("@", 1), ""])[:2]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not digest:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    return f"{name}@{digest}" if digest else name


def _image_digest(image: str) -> str:
    return hashlib.sha256(normalize_image(image).encode()).hexdigest()


@dataclass
class _Sandbox:
    id: str
    config: PodSandboxConfig
    ip: str
    host_ports: dict[tuple[int, str], int]
    node: str
    containers: list[str] = field(default_factory=list)


@dataclass
class _IPPool:
    next: int = 2
    released: list[int] = field(default_factory=list)


@dataclass
class _Container:
    id: str
    sandbox_id: str
    pod: PodSandboxConfig
    config: ContainerConfig
    ip: str
    state: ContainerState = ContainerState.CREATED
    exit_code: int | None = None
    reason: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    started_mono: float = 0.0
    #: generation of the exit timer (a stale heap entry is ignored)
    timer: int = 0
    waiters: list[asyncio.Future[None]] | None = None
    scripted: bool = True

    def __post_init__(self) -> None:
        self.scripted = any(key.startswith(ANNOTATION_PREFIX) for key in self.config.annotations)

    def script(self, key: str) -> str | None:
        """The annotation ``key`` for this container (``key.<name>`` first)."""
        if not self.scripted:
            return None
        annotations = self.config.annotations
        value = annotations.get(f"{ANNOTATION_PREFIX}{key}.{self.config.name}")
        if value is not None:
            return value
        if self.kind == "regular":
            return annotations.get(f"{ANNOTATION_PREFIX}{key}")
        return None

    @property
    def kind(self) -> str:
        kind = self.config.annotations.get(CONTAINER_TYPE_HINT)
        if kind:
            return kind
        return "init" if self.config.init else "regular"


class SimulatedRuntime(Runtime):
    """A :class:`Runtime` whose containers are records on a clock (see the module doc)."""

    name = "simulated"
    version = "0.1.0"
    os_image = "nbcluster simulated node"
    #: Hint for the kubelet: every call completes without waiting on anything outside.
    instant = True

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        capacity: dict[str, str] | None = None,
        missing_images: set[str] | frozenset[str] | list[str] | tuple[str, ...] = (),
        job_duration: float = 1.0,
        init_duration: float = 0.1,
    ) -> None:
        self.clock = clock or RealClock()
        self._clock_given = clock is not None
        self.capacity = {**_DEFAULT_CAPACITY, **(capacity or {})}
        self.missing_images = set(missing_images)
        self.job_duration = job_duration
        self.init_duration = init_duration
        self._ids = itertools.count(1)
        self._ports = itertools.count(40000)
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        self._callbacks: list[Callable[[str], None]] = []
        self._node_cidrs: dict[str, tuple[int, int]] = {}  # node -> (base address, size)
        self._node_used: dict[str, _IPPool] = {}
        self._next_node_index = 0
        self._timers: list[tuple[float, int, str, int]] = []
        self._timer_seq = itertools.count()
        self._timer_task: asyncio.Task[None] | None = None
        self._timer_changed: asyncio.Event | None = None
        self._closed = False
        self._images: dict[str, tuple[str, str]] = {}

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        for container in list(self._containers.values()):
            self._finish(container, 137, "Error", notify=False)
        self._containers.clear()
        self._sandboxes.clear()
        self._node_used.clear()
        if self._timer_task is not None:
            self._timer_task.cancel()
            self._timer_task = None
        self._timers.clear()

    def adopt_clock(self, clock: Clock) -> None:
        """Follow ``clock`` (the kubelets') when none was given to the constructor."""
        if not self._clock_given and not self._containers:
            self.clock = clock

    def on_container_exit(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    def node_capacity(self) -> dict[str, str]:
        return dict(self.capacity)

    # -- inspection (for tests and the UI) -----------------------------------------

    def container_ids(self) -> list[str]:
        return list(self._containers)

    def sandbox_ids(self) -> list[str]:
        return list(self._sandboxes)

    def running_containers(self) -> list[str]:
        return [c.id for c in self._containers.values() if c.state is ContainerState.RUNNING]

    # -- sandboxes -------------------------------------------------------------

    def set_node_pod_cidr(self, node: str, cidr: str) -> None:
        """Tell the runtime which pod CIDR ``node`` hands IPs from (``10.244.3.0/24``)."""
        address, _, prefix = cidr.partition("/")
        self._node_cidrs[node] = (_ip_to_int(address), 1 << (32 - int(prefix or 24)))

    def _allocate_ip(self, node: str) -> str:
        """The lowest free address of the node's CIDR from .2 (a heap of released ones)."""
        if node not in self._node_cidrs:
            index = self._next_node_index
            self._next_node_index += 1
            self._node_cidrs[node] = (_ip_to_int("10.244.0.0") + index * 256, 256)
        base, size = self._node_cidrs[node]
        pool = self._node_used.get(node)
        if pool is None:
            pool = self._node_used[node] = _IPPool()
        if pool.released:
            offset = heapq.heappop(pool.released)
        elif pool.next < size - 1:
            offset = pool.next
            pool.next += 1
        else:
            raise BadRequest(f"failed to allocate an IP for a pod on node {node}: range is full")
        return _int_to_ip(base + offset)

    async def run_sandbox(self, config: PodSandboxConfig) -> SandboxInfo:
        sandbox_id = self._new_id()
        ip = self._allocate_ip(config.node) if not config.host_network else ""
        host_ports = {port: next(self._ports) for port in config.ports}
        self._sandboxes[sandbox_id] = _Sandbox(sandbox_id, config, ip, host_ports, config.node)
        return SandboxInfo(id=sandbox_id, ip=ip, host_ports=dict(host_ports))

    async def remove_sandbox(self, sandbox_id: str) -> None:
        """Release the sandbox (its IP); running containers in it are killed, records stay."""
        sandbox = self._sandboxes.pop(sandbox_id, None)
        if sandbox is None:
            return
        for container_id in sandbox.containers:
            container = self._containers.get(container_id)
            if container is not None and container.state is not ContainerState.EXITED:
                self._finish(container, 137, "Error")
        if sandbox.ip:
            base, _size = self._node_cidrs[sandbox.node]
            pool = self._node_used.get(sandbox.node)
            if pool is not None:
                heapq.heappush(pool.released, _ip_to_int(sandbox.ip) - base)

    # -- images ----------------------------------------------------------------

    def _image_missing(self, image: str) -> bool:
        return "does-not-exist" in image or image in self.missing_images

    async def ensure_image(self, image: str, pull_policy: str) -> bool:
        missing = self._image_missing(image)
        if pull_policy == "Never":
            if missing:
                error = ImagePullError(f'Container image "{image}" is not present with pull policy of Never')
                error.reason = "ErrImageNeverPull"
                raise error
            return False
        if missing:
            ref = normalize_image(image)
            raise ImagePullError(
                f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
                f'failed to resolve reference "{ref}": {ref}: not found'
            )
        return pull_policy == "Always"

    def image_pull_stats(self, image: str) -> tuple[float, int]:
        """A fake (pull seconds, image size in bytes) for the kubelet's Pulled event."""
        digest = int(_image_digest(image)[:8], 16)
        size = 5_000_000 + digest % 150_000_000
        return round(size / 60_000_000, 3), size

    # -- containers ------------------------------------------------------------

    def _new_id(self) -> str:
        return hashlib.sha256(str(next(self._ids)).encode()).hexdigest()

    def _get(self, container_id: str) -> _Container:
        container = self._containers.get(container_id)
        if container is None:
            raise NotFound(f'container "{container_id}" not found')
        return container

    async def create_container(
        self, sandbox: SandboxInfo, pod: PodSandboxConfig, config: ContainerConfig
    ) -> str:
        if sandbox.id not in self._sandboxes:
            raise NotFound(f'sandbox "{sandbox.id}" not found')
        container_id = self._new_id()
        self._containers[container_id] = _Container(container_id, sandbox.id, pod, config, sandbox.ip)
        self._sandboxes[sandbox.id].containers.append(container_id)
        return container_id

    async def start_container(self, container_id: str) -> None:
        container = self._get(container_id)
        if container.state is ContainerState.RUNNING:
            return
        if container.state is ContainerState.EXITED:
            raise BadRequest(f"container {container_id} has exited: it cannot be started again")
        container.state = ContainerState.RUNNING
        container.started_at = self.clock.now()
        container.started_mono = self.clock.monotonic()
        duration = self._duration(container)
        if duration is not None:
            self._schedule_exit(container, duration)

    def _duration(self, container: _Container) -> float | None:
        scripted = container.script("duration")
        if scripted is not None:
            seconds = _float(scripted, self.job_duration)
            return None if math.isinf(seconds) else seconds
        if container.kind == "init":
            return self.init_duration
        if self._exit_code(container) != 0 or container.script("oom") == "true":
            return self.job_duration
        policy = container.config.annotations.get(RESTART_POLICY_HINT, "Always")
        if container.kind == "sidecar" or policy == "Always":
            return None
        return self.job_duration

    def _exit_code(self, container: _Container) -> int:
        by_index = container.script("exit-code-by-index")
        if by_index:
            annotations = container.config.annotations
            index = annotations.get(JOB_INDEX_KEY) or container.pod.labels.get(JOB_INDEX_KEY)
            for item in by_index.split(","):
                key, _, code = item.partition(":")
                if index is not None and key.strip() == str(index):
                    return _int(code, 1)
        return _int(container.script("exit-code"), 0)

    def _natural_exit(self, container: _Container) -> tuple[int, str]:
        if container.script("oom") == "true":
            return 137, "OOMKilled"
        code = self._exit_code(container)
        return code, "Completed" if code == 0 else "Error"

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        container = self._get(container_id)
        if container.state is not ContainerState.RUNNING:
            if container.state is ContainerState.CREATED:
                self._finish(container, 0, "Completed", at=self.clock.now())
            return
        if grace_seconds <= 0:
            self._finish(container, 137, "Error", at=self.clock.now())
            return
        shutdown = _float(container.script("shutdown-seconds"), 0.0)
        if shutdown <= 0:
            self._finish(container, 0, "Completed", at=self.clock.now())
            return
        waited = min(shutdown, grace_seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if container.waiters is None:
            container.waiters = []
        container.waiters.append(future)
        sleeper = asyncio.ensure_future(self.clock.sleep(waited))
        try:
            await asyncio.wait({future, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            future.cancel()
        if container.state is ContainerState.RUNNING:
            if shutdown <= grace_seconds:
                self._finish(container, 0, "Completed", at=self.clock.now())
            else:
                self._finish(container, 137, "Error", at=self.clock.now())

    async def remove_container(self, container_id: str) -> None:
        container = self._containers.get(container_id)
        if container is None:
            return
        if container.state is ContainerState.RUNNING:
            self._finish(container, 137, "Error", notify=False)
        del self._containers[container_id]

    def _image_refs(self, image: str) -> tuple[str, str]:
        """(image as reported, imageID) for ``image``, computed once per image."""
        refs = self._images.get(image)
        if refs is None:
            normalized = normalize_image(image)
            if "@" in image:
                refs = (normalized, normalized)
            else:
                refs = (normalized, f"{normalized.rsplit(':', 1)[0]}@sha256:{_image_digest(image)}")
            self._images[image] = refs
        return refs

    async def container_status(self, container_id: str) -> ContainerStatus:
        c = self._get(container_id)
        image, image_id = self._image_refs(c.config.image)
        return ContainerStatus(
            id=c.id,
            name=c.config.name,
            state=c.state,
            exit_code=c.exit_code,
            reason=c.reason,
            message=None,
            started_at=c.started_at,
            finished_at=c.finished_at,
            image=image,
            image_id=image_id,
        )

    def _finish(
        self,
        container: _Container,
        code: int,
        reason: str,
        *,
        at: datetime | None = None,
        notify: bool = True,
    ) -> None:
        if container.state is ContainerState.EXITED:
            return
        container.state = ContainerState.EXITED
        container.exit_code = code
        container.reason = reason
        container.finished_at = at or self.clock.now()
        if container.started_at is None:
            container.started_at = container.finished_at
        container.timer += 1
        if container.waiters:
            for waiter in container.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            container.waiters = None
        if notify and not self._closed:
            for callback in list(self._callbacks):
                try:
                    callback(container.id)
                except Exception:  # a listener's bug must not break the runtime
                    log.exception("container exit callback failed")

    # -- the exit timer (one heap, one task) ---------------------------------------

    def _schedule_exit(self, container: _Container, duration: float) -> None:
        container.timer += 1
        due = container.started_mono + max(0.0, duration)
        heapq.heappush(self._timers, (due, next(self._timer_seq), container.id, container.timer))
        if self._timer_task is None or self._timer_task.done():
            self._timer_changed = asyncio.Event()
            self._timer_task = asyncio.get_running_loop().create_task(
                self._run_timers(), name="simulated-runtime-exits"
            )
        elif self._timers[0][2] == container.id and self._timer_changed is not None:
            self._timer_changed.set()

    async def _run_timers(self) -> None:
        assert self._timer_changed is not None
        changed = self._timer_changed
        while not self._closed:
            now = self.clock.monotonic()
            while self._timers and self._timers[0][0] <= now:
                due, _seq, container_id, generation = heapq.heappop(self._timers)
                container = self._containers.get(container_id)
                if (
                    container is None
                    or container.timer != generation
                    or container.state is not ContainerState.RUNNING
                ):
                    continue
                code, reason = self._natural_exit(container)
                assert container.started_at is not None
                finished = container.started_at + timedelta(seconds=due - container.started_mono)
                self._finish(container, code, reason, at=finished)
            changed.clear()
            if not self._timers:
                await changed.wait()
                continue
            wait = self._timers[0][0] - self.clock.monotonic()
            if wait <= 0:
                await asyncio.sleep(0)
                continue
            sleeper = asyncio.ensure_future(self.clock.sleep(wait))
            waker = asyncio.ensure_future(changed.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()

    # -- logs, exec, probes ----------------------------------------------------------

    async def logs(self, container_id: str, *, tail: int | None = None) -> str:
        c = self._get(container_id)
        text = c.script("logs")
        if text is None:
            text = f"[simulated] container {c.config.name} started (image {c.config.image})\n"
        elif text and not text.endswith("\n"):
            text += "\n"
        if tail is not None and tail >= 0:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-tail:]) if tail else ""
        return text

    async def stream_logs(self, container_id: str, *, tail: int | None = None) -> AsyncIterator[str]:
        """``logs -f``: the container's (static) text, then nothing until it exits, on the clock."""
        text = await self.logs(container_id, tail=tail)
        if text:
            yield text
        c = self._containers.get(container_id)
        if c is None or c.state is ContainerState.EXITED:
            return
        exited: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if c.waiters is None:
            c.waiters = []
        c.waiters.append(exited)  # resolved by _finish (an exit, a kill, a removal, close)
        try:
            await exited
        finally:
            if c.waiters is not None and exited in c.waiters:
                c.waiters.remove(exited)

    async def exec(self, container_id: str, command: list[str], *, timeout: float = 10.0) -> ExecResult:
        c = self._get(container_id)
        if c.state is not ContainerState.RUNNING:
            raise BadRequest(f"container {container_id} is not running")
        scripted = c.script("exec-exit-code")
        if scripted is not None:
            return ExecResult(_int(scripted, 1), "")
        return ExecResult(0, self._builtin(c, command))

    def _builtin(self, c: _Container, command: list[str]) -> str:
        if not command:
            return ""
        program = command[0].rsplit("/", 1)[-1]
        if program in ("env", "printenv") and len(command) == 1:
            env = {"HOSTNAME": c.pod.hostname, **c.config.env}
            return "".join(f"{k}={v}\n" for k, v in env.items())
        if program == "printenv":
            env = {"HOSTNAME": c.pod.hostname, **c.config.env}
            return "".join(f"{env[name]}\n" for name in command[1:] if name in env)
        if program == "echo":
            return " ".join(command[1:]) + "\n"
        if program == "hostname" or command == ["cat", "/etc/hostname"]:
            return c.pod.hostname + "\n"
        return ""

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
        c = self._get(container_id)
        if c.state is not ContainerState.RUNNING:
            return ProbeResult(
                False,
                f'Get "{scheme.lower()}://{c.ip}:{port}{path}": dial tcp {c.ip}:{port}: '
                "connect: connection refused",
            )
        return ProbeResult(True)

    async def probe_tcp(
        self, sandbox: SandboxInfo, container_id: str, *, port: int, timeout: float
    ) -> ProbeResult:
        c = self._get(container_id)
        if c.state is not ContainerState.RUNNING:
            return ProbeResult(False, f"dial tcp {c.ip}:{port}: connect: connection refused")
        return ProbeResult(True)

    def scripted_probe_result(
        self, container_id: str, probe_type: str, probe: dict[str, Any]
    ) -> ProbeResult | None:
        """A failure when the pod's annotations script ``probe_type`` to fail now, else None.

        ``probe_type`` is liveness, readiness or startup; ``probe`` the probe's spec (for
        a message worded like the real prober's).
        """
        c = self._containers.get(container_id)
        if c is None:
            return None
        failing = c.script("fail-probe")
        if not failing or probe_type not in {p.strip() for p in failing.split(",")}:
            return None
        after = c.config.annotations.get(f"{ANNOTATION_PREFIX}fail-probe-after.{c.config.name}")
        if after is None:
            after = c.config.annotations.get(f"{ANNOTATION_PREFIX}fail-probe-after")
        if after is not None and self.clock.monotonic() - c.started_mono < _float(after, 0.0):
            return None
        return ProbeResult(False, _failure_message(c, probe))


def _failure_message(c: _Container, probe: dict[str, Any]) -> str:
    if "httpGet" in probe:
        return "HTTP probe failed with statuscode: 500"
    if "tcpSocket" in probe:
        return f"dial tcp {c.ip}:{probe['tcpSocket'].get('port')}: connect: connection refused"
    if "grpc" in probe:
        return f'timeout: failed to connect service "{c.ip}:{probe["grpc"].get("port")}" within 1s'
    command = list((probe.get("exec") or {}).get("command") or [])
    if len(command) == 2 and command[0].rsplit("/", 1)[-1] == "cat":
        return f"cat: can't open '{command[1]}': No such file or directory"
    return ""


def _int(text: str | None, default: int) -> int:
    if text is None:
        return default
    try:
        return int(str(text).strip())
    except ValueError:
        return default


def _float(text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        value = float(str(text).strip())
    except ValueError:
        return default
    return value if not math.isnan(value) else default


def _ip_to_int(address: str) -> int:
    a, b, c, d = (int(part) for part in address.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _int_to_ip(value: int) -> str:
    return f"{(value >> 24) & 255}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
