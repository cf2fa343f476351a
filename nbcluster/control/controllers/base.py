"""The shape every controller has: event handlers that enqueue keys, one ``sync(key)``. No I/O.

A controller subclasses :class:`Controller`, names its ``primary`` resource, and in
``setup()`` registers extra handlers with :meth:`Controller.on` that map an event on
another resource to keys of the primary one (a pod event -> its owner's key).
``sync(key)`` is synchronous, idempotent and level-triggered: it reads current state
through the API server's cache, deep-copies before changing anything, writes, and
returns seconds after which to look again (or None). Raising requeues the key with
exponential backoff. Tests build a controller on an API server, seed the store, call
``sync(key)`` once and check what it did.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from nbcluster.control.events import EventRecorder
from nbcluster.control.workqueue import WorkQueue
from nbcluster.errors import Conflict, NbClusterError, NotFound
from nbcluster.store import WatchEvent
from nbcluster.util.clock import Clock

if TYPE_CHECKING:
    from nbcluster.control.apiserver import APIServer

__all__ = ["WORKER_SLICE_SECONDS", "Controller", "ControllerManager", "object_key", "owner_key", "split_key"]

log = logging.getLogger("nbcluster.controllers")

#: Real seconds a worker may keep the loop while its queue has keys ready.
WORKER_SLICE_SECONDS = 0.002

Obj = dict[str, Any]


def split_key(key: str) -> tuple[str, str]:
    """``"ns/name"`` -> ("ns", "name"); ``"name"`` -> ("", "name")."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


def object_key(obj: Obj) -> str:
    meta = obj["metadata"]
    namespace = meta.get("namespace")
    return f"{namespace}/{meta['name']}" if namespace else meta["name"]


def owner_key(obj: Obj, kind: str) -> str | None:
    """Key of the controlling owner of ``obj`` if it is of ``kind``."""
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller") and ref.get("kind") == kind:
            namespace = obj["metadata"].get("namespace")
            return f"{namespace}/{ref['name']}" if namespace else ref["name"]
    return None


class Controller:
    """Base class of a level-triggered controller."""

    #: Name used for logs, events' source and the worker task.
    name: ClassVar[str] = "controller"
    #: The resource whose keys the queue holds (``"deployments.apps"``).
    primary: ClassVar[str] = ""
    #: How many keys are synced concurrently (sync is synchronous: 1 is usual).
    workers: ClassVar[int] = 1

    def __init__(self, api: APIServer, clock: Clock, *, record_events: bool = True) -> None:
        self.api = api
        self.clock = clock
        self.queue = WorkQueue(clock, name=self.name)
        self.events = EventRecorder(api, clock, self.name, enabled=record_events)
        self._unsubscribe: list[Callable[[], None]] = []

    # -- wiring --------------------------------------------------------------

    def setup(self) -> None:
        """Register event handlers. The default enqueues every change of ``primary``."""
        if self.primary:
            self.on(self.primary, lambda event: object_key(event.object))

    def on(
        self,
        resource: str | None,
        handler: Callable[[WatchEvent], str | Iterable[str] | None],
        *,
        batch_seconds: float = 0.0,
    ) -> None:
        """On every event of ``resource`` (None: of every resource), enqueue the key(s) ``handler`` maps it to.

        ``batch_seconds`` > 0 collects a burst of such events into one sync that many
        seconds later (like the Job controller's syncJobBatchPeriod): a ReplicaSet whose
        1,000 pods turn Ready one by one recounts once per batch, not 1,000 times.
        """

        # Called for every event of the resource (a pod's three, times every controller
        # watching pods): kept to the handler call and a queue call.
        if batch_seconds > 0:

            def listener(event: WatchEvent) -> None:
                keys = handler(event)
                if keys is None:
                    return
                if isinstance(keys, str):
                    self.queue.add_after(keys, batch_seconds)
                else:
                    for key in keys:
                        self.queue.add_after(key, batch_seconds)

        else:

            def listener(event: WatchEvent) -> None:
                keys = handler(event)
                if keys is None:
                    return
                if isinstance(keys, str):
                    self.queue.add(keys)
                else:
                    for key in keys:
                        self.queue.add(key)

        if resource is None:
            self._unsubscribe.append(self.api.store.subscribe(None, listener))
        else:
            self._unsubscribe.append(self.api.subscribe(resource, listener))

    def initial_keys(self) -> Iterable[str]:
        """Keys to sync at start-up (every existing primary object): the informer's list."""
        if not self.primary:
            return []
        return [object_key(obj) for obj in self.api.cached_list(self.primary)]

    def teardown(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self.queue.close()

    # -- the loop ------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        """Reconcile one object. Return seconds to look again, or None."""
        raise NotImplementedError

    def process(self, key: str) -> None:
        """Run ``sync(key)`` once with the queue's bookkeeping (what a worker does)."""
        try:
            requeue = self.sync(key)
        except (Conflict, NotFound) as exc:
            log.debug("%s: %s: %s (requeued)", self.name, key, exc)
            self.queue.add_rate_limited(key)
        except NbClusterError as exc:
            log.info("%s: %s: %s (requeued)", self.name, key, exc)
            self.queue.add_rate_limited(key)
        except Exception:
            log.exception("%s: sync of %s failed (requeued)", self.name, key)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)
            if requeue is not None:
                self.queue.add_after(key, requeue)
        finally:
            self.queue.done(key)

    async def run_worker(self) -> None:
        queue = self.queue
        while True:
            key = await queue.get()
            if key is None:
                return
            # Keys that are ready now are processed for up to WORKER_SLICE_SECONDS of real
            # time before the other controllers and the kubelets get the loop: one turn of
            # the event loop per key costs as much as a small sync.
            started = time.perf_counter()
            self.process(key)
            while len(queue) and time.perf_counter() - started < WORKER_SLICE_SECONDS:
                key = await queue.get()
                if key is None:
                    return
                self.process(key)
            await asyncio.sleep(0)


class ControllerManager:
    """Starts controllers on the control plane's loop and stops them."""

    def __init__(self, controllers: Iterable[Controller]) -> None:
        self.controllers = list(controllers)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Call on the control-plane loop."""
        loop = asyncio.get_running_loop()
        for controller in self.controllers:
            controller.queue.bind(loop)
            controller.setup()
            for key in controller.initial_keys():
                controller.queue.add(key)
            for index in range(controller.workers):
                self._tasks.append(
                    loop.create_task(controller.run_worker(), name=f"{controller.name}-{index}")
                )
            self._tasks.append(
                loop.create_task(controller.queue.run_delays(), name=f"{controller.name}-delays")
            )

    async def stop(self) -> None:
        for controller in self.controllers:
            controller.teardown()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def get(self, name: str) -> Controller:
        for controller in self.controllers:
            if controller.name == name:
                return controller
        raise KeyError(name)
