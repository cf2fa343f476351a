"""The control plane of one cluster, running on its own thread and event loop.

:class:`ControlPlane` wires the store, the API server, the scheduler, the
controller manager's loops and one kubelet per node onto a runtime, and runs them
on a named background thread (``nbcluster-<name>``) so the cluster keeps working
while the notebook's kernel is idle or busy. Every public method is safe to call
from any thread; coroutine work is marshalled onto the loop with :meth:`run`.
Starting and stopping does I/O through the runtime (and the state directory).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.base import Controller, ControllerManager
from nbcluster.control.controllers.cronjob import CronJobController
from nbcluster.control.controllers.daemonset import DaemonSetController
from nbcluster.control.controllers.deployment import DeploymentController
from nbcluster.control.controllers.endpoints import EndpointsController
from nbcluster.control.controllers.garbagecollector import GarbageCollector
from nbcluster.control.controllers.hpa import HorizontalPodAutoscalerController
from nbcluster.control.controllers.job import JobController, TTLAfterFinishedController
from nbcluster.control.controllers.namespace import NamespaceController
from nbcluster.control.controllers.nodelifecycle import NodeLifecycleController
from nbcluster.control.controllers.podgc import PodGCController
from nbcluster.control.controllers.replicaset import ReplicaSetController
from nbcluster.control.controllers.statefulset import StatefulSetController
from nbcluster.control.controllers.volumes import PersistentVolumeController, ensure_default_storage_class
from nbcluster.control.kubelet import KubeletManager
from nbcluster.control.metrics import MetricsSource
from nbcluster.control.portforward import PortForwarder
from nbcluster.control.proxy import ServiceProxy, port_is_free
from nbcluster.control.scheduler import Scheduler
from nbcluster.errors import NbClusterError, Timeout
from nbcluster.runtime import Runtime
from nbcluster.store import SqlitePersistence, Store
from nbcluster.util.clock import Clock, RealClock

__all__ = ["ControlPlane", "NodeSpec", "PlaneOptions"]

log = logging.getLogger("nbcluster")

T = TypeVar("T")


@dataclass(frozen=True)
class NodeSpec:
    name: str
    control_plane: bool = False
    capacity: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    taints: list[dict[str, Any]] | None = None


@dataclass
class PlaneOptions:
    name: str = "nbcluster"
    nodes: list[NodeSpec] = field(default_factory=list)
    state_dir: Path | None = None
    clock: Clock = field(default_factory=RealClock)
    record_events: bool = True
    #: node-monitor-grace-period: a node silent this long becomes NotReady.
    monitor_grace_seconds: float = 40.0
    #: How many past events a watch may replay.
    watch_history: int = 50_000


class ControlPlane:
    """Store + API server + scheduler + controllers + kubelets, on one background loop."""

    def __init__(self, runtime: Runtime, options: PlaneOptions) -> None:
        self.options = options
        self.runtime = runtime
        self.clock = options.clock
        bind_cluster = getattr(runtime, "bind_cluster", None)
        if bind_cluster is not None:  # a real runtime labels what it makes with the cluster's name
            bind_cluster(options.name, options.state_dir)
        persistence = None
        if options.state_dir is not None:
            persistence = SqlitePersistence(Path(options.state_dir) / "store.sqlite")
        self.store = Store(history=options.watch_history, persistence=persistence)
        choose_service_cidr = getattr(runtime, "choose_service_cidr", None)
        service_cidr = choose_service_cidr() if choose_service_cidr is not None else None
        self.api = APIServer(self.store, self.clock, service_cidr=service_cidr)
        self.api.ensure_system_objects()
        ensure_default_storage_class(self.api)
        events = options.record_events
        self.scheduler = Scheduler(self.api, self.clock, record_events=events)
        controllers: list[Controller] = [
            self.scheduler,
            ReplicaSetController(self.api, self.clock, record_events=events),
            DeploymentController(self.api, self.clock, record_events=events),
            StatefulSetController(self.api, self.clock, record_events=events),
            DaemonSetController(self.api, self.clock, record_events=events),
            JobController(self.api, self.clock, record_events=events),
            TTLAfterFinishedController(self.api, self.clock, record_events=events),
            CronJobController(self.api, self.clock, record_events=events),
            EndpointsController(self.api, self.clock, record_events=events),
            GarbageCollector(self.api, self.clock, record_events=events),
            NamespaceController(self.api, self.clock, record_events=events),
            NodeLifecycleController(
                self.api,
                self.clock,
                record_events=events,
                monitor_grace_seconds=options.monitor_grace_seconds,
            ),
            PodGCController(self.api, self.clock, record_events=events),
            PersistentVolumeController(
                self.api,
                self.clock,
                record_events=events,
                storage_root=str(Path(options.state_dir) / "volumes") if options.state_dir else None,
            ),
        ]
        self.controllers = ControllerManager(controllers)
        self.kubelets = KubeletManager(self.api, self.clock, runtime, record_events=events)
        # Services (issue 5): kube-proxy on 127.0.0.1, port-forward, metrics and the HPA.
        # A runtime without real processes (simulated) gets no listeners: nothing to reach.
        reachable = not getattr(runtime, "instant", False)
        self.proxy = ServiceProxy(
            self.api,
            self.clock,
            resolver=self.kubelets.endpoint_address,
            listen=reachable,
            record_events=events,
            runtime=runtime,
        )
        if reachable:
            self.api.node_port_free = functools.partial(port_is_free, self.proxy.host)
            self.api.load_balancer_ip = self.proxy.host
        self.forwards = PortForwarder(self.api, self.clock, self.proxy, available=reachable)
        self.metrics = MetricsSource(self.api, self.clock, runtime, proxy=self.proxy)
        self.hpa = HorizontalPodAutoscalerController(self.api, self.clock, self.metrics, record_events=events)
        self.controllers.controllers += [self.proxy, self.hpa]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._stopped = False

    # -- lifecycle -----------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Start the loop thread and every component; return once nodes are registered."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run_loop, name=f"nbcluster-{self.options.name}", daemon=True
        )
        self._thread.start()
        if not self._started.wait(timeout):
            raise Timeout(f"the control plane of {self.options.name} did not start within {timeout:.0f}s")
        if self._start_error is not None:
            error, self._start_error = self._start_error, None
            self._thread.join(timeout=5)
            self._thread = None
            raise error

    def _run_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_components())
        except BaseException as exc:  # reported to the thread that called start()
            self._start_error = exc
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _start_components(self) -> None:
        await self.runtime.start()
        await self.kubelets.start()
        for node in self.options.nodes:
            await self.kubelets.add_node(
                node.name,
                capacity=node.capacity,
                labels=node.labels,
                taints=node.taints,
                control_plane=node.control_plane,
            )
        self.controllers.start()
        await self.metrics.start()

    async def _stop_components(self) -> None:
        await self.forwards.close()
        await self.metrics.stop()
        await self.controllers.stop()
        await self.kubelets.stop()
        await self.runtime.close()

    def stop(self) -> None:
        """Stop every component and remove every runtime resource. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._stop_components(), loop).result(timeout=120)
            except (concurrent.futures.TimeoutError, RuntimeError, NbClusterError) as exc:
                log.warning("stopping %s: %s", self.options.name, exc)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
        self.store.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopped

    # -- calling into the loop -------------------------------------------------

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run a coroutine on the control plane's loop from any other thread."""
        if self._loop is None or not self.running:
            coroutine.close()
            raise NbClusterError(f"the cluster {self.options.name} is not running")
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("ControlPlane.run() called from the control plane's own thread")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise Timeout(f"the control plane did not answer within {timeout}s") from exc

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop
