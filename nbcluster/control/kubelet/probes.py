"""Startup, liveness and readiness probes (kubelet's prober workers) on one timer heap.

A port of ``pkg/kubelet/prober/worker.go``: a worker per probe of a running container
instance, first run ``initialDelaySeconds`` after the container started, then every
``periodSeconds``; a result is reported only after ``successThreshold`` /
``failureThreshold`` consecutive equal results; liveness and startup stop after a
reported failure (the container is killed, its successor gets new workers); readiness
and liveness wait for the startup probe; the startup worker stops once it succeeded.
Every failed run records an ``Unhealthy`` event ("Liveness probe failed: ...").
Probing itself goes through the runtime (exec, httpGet, tcpSocket; grpc is probed like
tcp), so this module does I/O only through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from nbcluster.control.events import EventType
from nbcluster.control.kubelet.records import ContainerRecord, PodRecord, field_path
from nbcluster.control.kubelet.timers import TimerHandle, Timers
from nbcluster.errors import NbClusterError, RuntimeUnavailable
from nbcluster.runtime.interface import ProbeResult, Runtime
from nbcluster.util.clock import Clock

__all__ = ["ProbeManager", "resolve_port"]

log = logging.getLogger("nbcluster.kubelet")

Obj = dict[str, Any]

_PROBES = (("startup", "startupProbe"), ("liveness", "livenessProbe"), ("readiness", "readinessProbe"))


def resolve_port(container: Obj, port: Any) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    text = str(port)
    if text.isdigit():
        return int(text)
    for item in container.get("ports") or ():
        if item.get("name") == text:
            return int(item.get("containerPort", 0))
    raise NbClusterError(f"couldn't find port: {text} in {container.get('name')}")


class _Worker:
    __slots__ = ("container", "handle", "last_result", "pod", "probe_type", "result_run", "spec", "stopped")

    def __init__(self, pod: PodRecord, container: ContainerRecord, probe_type: str, spec: Obj) -> None:
        self.pod = pod
        self.container = container
        self.probe_type = probe_type
        self.spec = spec
        self.handle: TimerHandle | None = None
        self.last_result: bool | None = None
        self.result_run = 0
        self.stopped = False

    @property
    def period(self) -> float:
        return float(self.spec.get("periodSeconds") or 10)


class ProbeManager:
    """Runs every probe worker of every pod off one :class:`Timers` heap."""

    def __init__(
        self, runtime: Runtime, clock: Clock, timers: Timers, on_change: Callable[[PodRecord], None]
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.timers = timers
        self.on_change = on_change
        self.instant = bool(getattr(runtime, "instant", False))
        self._scripted = getattr(runtime, "scripted_probe_result", None)
        self._batch: list[_Worker] = []
        self._batch_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: True while the runtime does not answer: workers keep their period but do not
        #: probe (a probe that cannot reach the runtime says nothing about the container).
        self.suspended = False

    # -- workers ---------------------------------------------------------------

    def start(self, pod: PodRecord, container: ContainerRecord) -> None:
        """Start the probe workers of a container instance that just started."""
        spec = container.spec
        for probe_type, key in _PROBES:
            probe = spec.get(key)
            if not probe:
                continue
            worker = _Worker(pod, container, probe_type, probe)
            if container.probes is None:
                container.probes = []
            container.probes.append(worker)
            delay = float(probe.get("initialDelaySeconds") or 0)
            worker.handle = self.timers.call_at(container.started_mono + delay, self._due, worker)

    def stop(self, container: ContainerRecord) -> None:
        if not container.probes:
            return
        for worker in container.probes:
            worker.stopped = True
            if worker.handle is not None:
                worker.handle.cancel()
        container.probes = None

    def _due(self, worker: _Worker) -> None:
        if worker.stopped:
            return
        if self.instant:
            self._batch.append(worker)
            if self._batch_task is None or self._batch_task.done():
                self._batch_task = asyncio.get_running_loop().create_task(self._run_batch())
        else:
            task = asyncio.get_running_loop().create_task(self._run(worker))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_batch(self) -> None:
        while self._batch:
            batch, self._batch = self._batch, []
            for worker in batch:
                await self._run(worker)

    async def close(self) -> None:
        for task in list(self._tasks) + ([self._batch_task] if self._batch_task else []):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._batch.clear()

    # -- one probe run (doProbe) -----------------------------------------------

    def _reschedule(self, worker: _Worker) -> None:
        if not worker.stopped:
            worker.handle = self.timers.call_later(worker.period, self._due, worker)

    async def _run(self, worker: _Worker) -> None:
        if worker.stopped:
            return
        container, pod = worker.container, worker.pod
        if not container.running or pod.current.get(container.name) is not container or pod.node.stopped:
            worker.stopped = True
            return
        if worker.probe_type == "startup" and container.startup is True:
            worker.stopped = True
            return
        if self.suspended or (
            worker.probe_type != "startup"
            and container.spec.get("startupProbe") is not None
            and container.startup is not True
        ):
            self._reschedule(worker)
            return
        result = await self._probe(worker)
        if worker.stopped or pod.current.get(container.name) is not container or not container.running:
            return
        if result is None:  # a prober error, not a verdict: kubelet throws the result away
            self._reschedule(worker)
            return
        if not result.success and pod.pod is not None:
            pod.node.recorder.event(
                pod.pod,
                EventType.WARNING,
                "Unhealthy",
                f"{worker.probe_type.capitalize()} probe failed: {result.message}",
                field_path=field_path(container.kind, container.name),
            )
        if worker.last_result == result.success:
            worker.result_run += 1
        else:
            worker.last_result = result.success
            worker.result_run = 1
        threshold = (
            int(worker.spec.get("failureThreshold") or 3)
            if not result.success
            else int(worker.spec.get("successThreshold") or 1)
        )
        if worker.result_run >= threshold:
            previous = getattr(container, worker.probe_type)
            setattr(container, worker.probe_type, result.success)
            if previous != result.success:
                self.on_change(pod)
            if not result.success and worker.probe_type in ("liveness", "startup"):
                # The container will be killed; its successor gets fresh workers.
                worker.stopped = True
                return
            if result.success and worker.probe_type == "startup":
                worker.stopped = True
                return
        self._reschedule(worker)

    async def _probe(self, worker: _Worker) -> ProbeResult | None:
        container, spec = worker.container, worker.spec
        if self._scripted is not None:
            scripted = self._scripted(container.id, worker.probe_type, spec)
            if scripted is not None:
                return scripted
        timeout = float(spec.get("timeoutSeconds") or 1)
        sandbox = worker.pod.sandbox
        try:
            if spec.get("exec") is not None:
                command = [str(part) for part in spec["exec"].get("command") or ()]
                result = await self.runtime.exec(container.id, command, timeout=timeout)
                return ProbeResult(result.exit_code == 0, result.output)
            if sandbox is None:
                return ProbeResult(False, "pod sandbox is gone")
            if spec.get("httpGet") is not None:
                http = spec["httpGet"]
                headers = {h.get("name", ""): h.get("value", "") for h in http.get("httpHeaders") or ()}
                return await self.runtime.probe_http(
                    sandbox,
                    container.id,
                    port=resolve_port(container.spec, http.get("port")),
                    path=http.get("path") or "/",
                    scheme=http.get("scheme") or "HTTP",
                    headers=headers,
                    timeout=timeout,
                )
            for key in ("tcpSocket", "grpc"):
                if spec.get(key) is not None:
                    return await self.runtime.probe_tcp(
                        sandbox,
                        container.id,
                        port=resolve_port(container.spec, spec[key].get("port")),
                        timeout=timeout,
                    )
        except RuntimeUnavailable as exc:
            log.info("probing %s: %s", container.name, exc)
            return None
        except NbClusterError as exc:
            return ProbeResult(False, str(exc))
        return ProbeResult(True)
