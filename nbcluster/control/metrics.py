"""The metrics source: what metrics-server (``metrics.k8s.io``) and a custom-metrics adapter
(``custom.metrics.k8s.io``) would serve to ``kubectl top`` and the HPA. I/O only on a
runtime that measures (Docker stats, on a background task); the rest is computed from the
API server's cache and the proxy's counters.

Resource metrics (CPU in millicores, memory working set in bytes, per container):

* **Measured runtimes.** A runtime with a coroutine
  ``container_stats(container_ids: list[str]) -> dict[str, ContainerStats]`` and
  ``measures_usage`` (cumulative CPU
  nanoseconds and the memory working set, like CRI's ``ListContainerStats``) is sampled
  every :attr:`MetricsSource.resolution` seconds; CPU usage is the rate between two samples,
  as metrics-server computes it, so a pod has metrics from its second sample on (the
  Docker runtime answers from ``docker stats``).
* **The simulated runtime** runs nothing, so usage is what a test or a demo sets:

  - per pod, with annotations ``sim.nbcluster.io/cpu-usage: 250m``,
    ``sim.nbcluster.io/memory-usage: 64Mi`` (``.<container>`` suffix: that container;
    without: the pod, counted on its first container), or
  - per label selector, with :meth:`MetricsSource.set_load`
    (``set_load("app=web", cpu="300m")`` per pod, or ``split=True``: a total shared by
    the selected running pods, as traffic behind a Service is -- scaling up lowers each
    pod's share, which is what makes an HPA demo converge).

  Pods without a load use nothing (0m, 0Mi).

Custom pods metrics: ``requests_per_second`` (alias ``http_requests_per_second``), the
connections per second the proxy relayed to each pod over the last ``resolution``
seconds; on the simulated runtime, the ``requests-per-second`` annotation or
``set_load(..., requests_per_second=...)``.

Every sample carries a timestamp and a window (``resolution``), which the HPA uses as
Kubernetes' does to ignore the first window after a pod turns Ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nbcluster.api.quantities import cpu_millis, memory_bytes
from nbcluster.api.selectors import LabelSelector
from nbcluster.control.apiserver import Selector
from nbcluster.errors import NbClusterError
from nbcluster.runtime.interface import ContainerStats
from nbcluster.util.clock import Clock

__all__ = [
    "ANNOTATION_CPU",
    "ANNOTATION_MEMORY",
    "ANNOTATION_RPS",
    "REQUESTS_METRICS",
    "ContainerStats",
    "ContainerUsage",
    "MetricsSource",
    "MetricsUnavailable",
    "PodUsage",
]

log = logging.getLogger("nbcluster.metrics")

Obj = dict[str, Any]

ANNOTATION_CPU = "sim.nbcluster.io/cpu-usage"
ANNOTATION_MEMORY = "sim.nbcluster.io/memory-usage"
ANNOTATION_RPS = "sim.nbcluster.io/requests-per-second"
#: Pods metric names the proxy's request rate answers.
REQUESTS_METRICS = ("requests_per_second", "http_requests_per_second")
#: Seconds after a container is first seen before the sample that gives its first rate.
FIRST_RATE_SECONDS = 2.0


class MetricsUnavailable(NbClusterError):
    """No metrics (yet) for what was asked; the message is the metrics API's."""

    reason = "ServiceUnavailable"


@dataclass(frozen=True, slots=True)
class ContainerUsage:
    name: str
    cpu_millis: int
    memory_bytes: int


@dataclass(frozen=True)
class PodUsage:
    """A ``metrics.k8s.io`` PodMetrics: usage per container over ``window`` seconds."""

    namespace: str
    name: str
    timestamp: datetime
    window: float
    containers: tuple[ContainerUsage, ...]
    node: str = ""

    @property
    def cpu_millis(self) -> int:
        return sum(c.cpu_millis for c in self.containers)

    @property
    def memory_bytes(self) -> int:
        return sum(c.memory_bytes for c in self.containers)


@dataclass
class _Load:
    namespace: str
    selector: LabelSelector
    cpu: int | None = None
    memory: int | None = None
    rps: float | None = None
    split: bool = False


@dataclass
class _Sample:
    cpu_ns: int
    at: float
    usage: ContainerUsage | None = None
    seen: float = field(default=0.0)


def _running_containers(pod: Obj) -> list[tuple[str, str]]:
    """(name, runtime container id) of the pod's running containers, from its status."""
    out = []
    status = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or ():
            if "running" in (cs.get("state") or {}) and cs.get("containerID"):
                out.append((cs["name"], cs["containerID"].partition("://")[2] or cs["containerID"]))
    return out


def _is_running(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get(
        "deletionTimestamp"
    )


class MetricsSource:
    """Pod and node usage for ``top`` and the HPA (see the module docstring)."""

    def __init__(
        self,
        api: Any,
        clock: Clock,
        runtime: Any = None,
        *,
        proxy: Any = None,
        resolution: float = 15.0,
    ) -> None:
        self.api = api
        self.clock = clock
        self.runtime = runtime
        self.proxy = proxy
        #: Seconds between samples, and the window each sample covers.
        self.resolution = resolution
        self._loads: list[_Load] = []
        self._reader: Any = runtime if getattr(runtime, "measures_usage", False) else None
        self.measured = self._reader is not None
        self._samples: dict[str, _Sample] = {}
        self._pods: dict[tuple[str, str], PodUsage] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Any = None

    # -- lifecycle (measured runtimes only) --------------------------------------------

    async def start(self) -> None:
        if not self.measured or self._task is not None:
            return
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="metrics-source")
        self._unsubscribe = self.api.subscribe("pods", self._on_pod)

    def _on_pod(self, event: Any) -> None:
        """A container started running: sample soon, so its usage shows within seconds."""
        if event.type == "DELETED":
            return
        new = {cid for _n, cid in _running_containers(event.object)}
        old = {cid for _n, cid in _running_containers(event.old)} if event.old is not None else set()
        if new - old and self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self) -> None:
        while True:
            fresh = 0
            try:
                fresh = await self.sample()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed scrape is retried at the next one
                log.exception("sampling container stats failed")
            assert self._wake is not None
            # Containers seen for the first time get their rate from a quick second sample.
            wait = self.clock.real_seconds(self.resolution)
            if fresh:
                wait = min(wait, FIRST_RATE_SECONDS)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            self._wake.clear()

    def poke(self) -> None:
        """Sample again now (after a change of ``resolution``); call on the loop."""
        if self._wake is not None:
            self._wake.set()

    async def sample(self) -> int:
        """Scrape every running container once and update the pods' usage.

        Returns how many containers were seen for the first time (no rate yet)."""
        reader = self._reader
        if reader is None:
            return 0
        pods = [p for p in self.api.cached_list("pods") if _is_running(p)]
        wanted: dict[str, tuple[Obj, str]] = {}
        for pod in pods:
            for name, cid in _running_containers(pod):
                wanted[cid] = (pod, name)
        stats = await reader.container_stats(list(wanted)) if wanted else {}
        now_mono = time.monotonic()
        now = self.clock.now()
        by_pod: dict[tuple[str, str], list[ContainerUsage]] = {}
        windows: dict[tuple[str, str], float] = {}
        nodes: dict[tuple[str, str], str] = {}
        for cid, (pod, name) in wanted.items():
            current = stats.get(cid)
            if current is None:
                continue
            previous = self._samples.get(cid)
            sample = _Sample(current.cpu_usage_ns, now_mono, seen=now_mono)
            if previous is not None and now_mono > previous.at:
                elapsed = now_mono - previous.at
                millis = max(0, round((current.cpu_usage_ns - previous.cpu_ns) / elapsed / 1e6))
                sample.usage = ContainerUsage(name, millis, current.memory_working_set_bytes)
                key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
                by_pod.setdefault(key, []).append(sample.usage)
                windows[key] = max(windows.get(key, 0.0), elapsed)
                nodes[key] = pod["spec"].get("nodeName") or ""
            self._samples[cid] = sample
        fresh = sum(1 for cid in stats if cid not in self._samples or self._samples[cid].usage is None)
        for cid in list(self._samples):
            if cid not in wanted:
                del self._samples[cid]
        self._pods = {
            key: PodUsage(key[0], key[1], now, round(windows[key], 3), tuple(usages), nodes[key])
            for key, usages in by_pod.items()
        }
        return fresh

    # -- simulated load ------------------------------------------------------------------

    def set_load(
        self,
        selector: str | dict[str, str] = "",
        *,
        namespace: str = "default",
        cpu: str | int | None = None,
        memory: str | int | None = None,
        requests_per_second: float | None = None,
        split: bool = False,
    ) -> None:
        """The simulated runtime's usage for the pods ``selector`` picks (later calls win).

        ``cpu`` / ``memory`` are quantities (``"300m"``, ``"64Mi"``). With ``split`` they are
        totals shared evenly by the selected running pods.
        """
        if isinstance(selector, dict):
            parsed = LabelSelector.from_dict({"matchLabels": selector})
        else:
            parsed = LabelSelector.parse(selector)
        self._loads.append(
            _Load(
                namespace,
                parsed,
                cpu_millis(cpu) if cpu is not None else None,
                memory_bytes(memory) if memory is not None else None,
                float(requests_per_second) if requests_per_second is not None else None,
                split,
            )
        )

    def clear_load(self) -> None:
        self._loads.clear()

    def _share(self, load: _Load) -> int:
        if not load.split:
            return 1
        pods = self.api.cached_list("pods", load.namespace, Selector(load.selector))
        return max(1, sum(1 for p in pods if _is_running(p)))

    def _loaded(self, pod: Obj, attribute: str) -> float | None:
        meta = pod["metadata"]
        value: float | None = None
        for load in self._loads:
            amount = getattr(load, attribute)
            if amount is None or load.namespace != meta.get("namespace"):
                continue
            if load.selector.matches(meta.get("labels") or {}):
                value = amount / self._share(load)
        return value

    def _simulated(self, pod: Obj) -> PodUsage:
        meta = pod["metadata"]
        annotations = meta.get("annotations") or {}
        names = [c["name"] for c in pod["spec"].get("containers") or ()]
        cpu_load = self._loaded(pod, "cpu")
        memory_load = self._loaded(pod, "memory")
        containers = []
        for index, name in enumerate(names):
            cpu = annotations.get(f"{ANNOTATION_CPU}.{name}")
            memory = annotations.get(f"{ANNOTATION_MEMORY}.{name}")
            if index == 0:
                cpu = cpu if cpu is not None else annotations.get(ANNOTATION_CPU)
                memory = memory if memory is not None else annotations.get(ANNOTATION_MEMORY)
            millis = cpu_millis(cpu) if cpu is not None else 0
            size = memory_bytes(memory) if memory is not None else 0
            if index == 0:
                if cpu is None and cpu_load is not None:
                    millis = round(cpu_load)
                if memory is None and memory_load is not None:
                    size = round(memory_load)
            containers.append(ContainerUsage(name, millis, size))
        return PodUsage(
            meta["namespace"],
            meta["name"],
            self.clock.now(),
            self.resolution,
            tuple(containers),
            pod["spec"].get("nodeName") or "",
        )

    # -- the resource metrics API ----------------------------------------------------------

    def pod_metrics(
        self, namespace: str | None = None, selector: LabelSelector | None = None
    ) -> list[PodUsage]:
        """PodMetrics of the running pods (in ``namespace``; None: all) ``selector`` picks."""
        if self.measured:
            out = []
            for (ns, _name), usage in self._pods.items():
                if namespace is not None and ns != namespace:
                    continue
                if selector is not None:
                    pod = self.api.cached("pods", usage.name, ns)
                    if pod is None or not selector.matches(pod["metadata"].get("labels") or {}):
                        continue
                out.append(usage)
            return out
        pods = self.api.cached_list("pods", namespace, Selector(selector) if selector is not None else None)
        return [self._simulated(p) for p in pods if _is_running(p)]

    def node_metrics(self, nodes: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
        """Node -> (cpu millicores, memory bytes): the sum of its pods' usage."""
        out: dict[str, tuple[int, int]] = {}
        names = (
            list(nodes)
            if nodes is not None
            else [n["metadata"]["name"] for n in self.api.cached_list("nodes")]
        )
        if self.measured and not self._pods:
            return {}
        for name in names:
            out[name] = (0, 0)
        if self.measured:
            usages: Iterable[PodUsage] = self._pods.values()
        else:
            usages = (
                self._simulated(p) for name in names for p in self.api.pods_on_node(name) if _is_running(p)
            )
        for usage in usages:
            if usage.node in out:
                cpu, memory = out[usage.node]
                out[usage.node] = (cpu + usage.cpu_millis, memory + usage.memory_bytes)
        return out

    # -- the custom metrics API (pods metrics) -----------------------------------------

    def pods_metric(
        self, metric: str, namespace: str, selector: LabelSelector | None = None
    ) -> dict[str, tuple[int, datetime, float]]:
        """Pod name -> (milli-value, timestamp, window) of a pods metric; raises MetricsUnavailable."""
        if metric not in REQUESTS_METRICS:
            raise MetricsUnavailable(
                "unable to fetch metrics from custom metrics API: the server could not find the "
                f"metric {metric} for pods"
            )
        pods = self.api.cached_list("pods", namespace, Selector(selector) if selector is not None else None)
        now = self.clock.now()
        out: dict[str, tuple[int, datetime, float]] = {}
        for pod in pods:
            if not _is_running(pod):
                continue
            name = pod["metadata"]["name"]
            if self.measured:
                rate = (
                    self.proxy.request_rate(namespace, name, self.resolution)
                    if self.proxy is not None
                    else 0.0
                )
            else:
                annotated = (pod["metadata"].get("annotations") or {}).get(ANNOTATION_RPS)
                if annotated is not None:
                    rate = float(annotated)
                else:
                    loaded = self._loaded(pod, "rps")
                    rate = loaded if loaded is not None else 0.0
            out[name] = (round(rate * 1000), now, self.resolution)
        return out
