"""A kubelet test bed: Store + APIServer + SimulatedRuntime + KubeletManager on a ManualClock."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from nbcluster.control.apiserver import APIServer
from nbcluster.control.kubelet import KubeletManager, pod_status_text
from nbcluster.runtime.simulated import SimulatedRuntime
from nbcluster.store import Store
from nbcluster.util.clock import ManualClock

Obj = dict[str, Any]


def run_async(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` on a fresh event loop in its own thread (immune to a loop another
    test left registered as running in the main thread)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coroutine, timeout=60)).result()


def async_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test function on a fresh event loop."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        run_async(fn(*args, **kwargs))

    return wrapper


class Cluster:
    """Two nodes (n1, n2), no scheduler: tests bind pods with :meth:`run_pod`."""

    def __init__(self, *, record_events: bool = True, **runtime_options: Any) -> None:
        self.clock = ManualClock()
        self.store = Store()
        self.api = APIServer(self.store, self.clock)
        self.api.ensure_system_objects()
        self.runtime = SimulatedRuntime(self.clock, **runtime_options)
        self.kubelets = KubeletManager(self.api, self.clock, self.runtime, record_events=record_events)
        #: (pod name, what kubectl's STATUS column showed) after every status write
        self.history: list[tuple[str, str]] = []
        self.status_writes: dict[str, int] = {}
        self.api.subscribe("pods", self._record)

    def _record(self, event: Any) -> None:
        if (
            event.type == "MODIFIED"
            and event.old is not None
            and event.old.get("status") is not event.object.get("status")
            and event.old["spec"] is event.object["spec"]
        ):
            name = event.object["metadata"]["name"]
            self.status_writes[name] = self.status_writes.get(name, 0) + 1
            self.history.append((name, pod_status_text(event.object)))

    async def __aenter__(self) -> Cluster:
        await self.kubelets.start()
        await self.kubelets.add_node("n1")
        await self.kubelets.add_node("n2")
        await self.settle()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.kubelets.stop()
        await self.runtime.close()

    async def settle(self, rounds: int = 60) -> None:
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def advance(self, seconds: float, step: float = 0.1) -> None:
        """Move the clock forward in small steps, letting the loop run after each."""
        steps = max(1, round(seconds / step))
        for index in range(steps):
            # A hair more on the last step: float sums (0.1 * 10) must not stop short.
            self.clock.advance(seconds / steps + (1e-6 if index == steps - 1 else 0.0))
            await self.settle()

    async def run_pod(self, pod: Obj, node: str = "n1") -> Obj:
        created = self.api.create(pod)
        self.api.bind(created["metadata"].get("namespace", "default"), created["metadata"]["name"], node)
        await self.settle()
        return self.pod(created["metadata"]["name"], created["metadata"].get("namespace", "default"))

    def pod(self, name: str, namespace: str = "default") -> Obj:
        return self.api.get("pods", name, namespace=namespace)

    def status_text(self, name: str, namespace: str = "default") -> str:
        return pod_status_text(self.pod(name, namespace))

    def events(self, name: str | None = None, reason: str | None = None) -> list[Obj]:
        out = []
        for event in self.api.cached_list("events"):
            if name is not None and event["involvedObject"].get("name") != name:
                continue
            if reason is not None and event["reason"] != reason:
                continue
            out.append(event)
        return sorted(out, key=lambda e: (e["firstTimestamp"], e["metadata"]["resourceVersion"]))

    def messages(self, name: str, reason: str) -> list[str]:
        return [e["message"] for e in self.events(name, reason)]


def pod(
    name: str,
    *,
    containers: list[Obj] | None = None,
    init: list[Obj] | None = None,
    annotations: dict[str, str] | None = None,
    namespace: str = "default",
    **spec: Any,
) -> Obj:
    body: Obj = {"containers": containers or [{"name": "app", "image": "busybox:1.36"}], **spec}
    if init:
        body["initContainers"] = init
    meta: Obj = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": body}


def condition(pod_obj: Obj, kind: str) -> Obj:
    return next(c for c in pod_obj["status"]["conditions"] if c["type"] == kind)


def container(pod_obj: Obj, name: str = "app", *, init: bool = False) -> Obj:
    key = "initContainerStatuses" if init else "containerStatuses"
    return next(s for s in pod_obj["status"][key] if s["name"] == name)
