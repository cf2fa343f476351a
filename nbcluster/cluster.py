"""``Cluster``: the Python face of one nbcluster cluster (what magics and widgets use).

It builds a :class:`~nbcluster.control.plane.ControlPlane` on the chosen runtime,
starts it on a background thread, and offers kubectl's verbs as methods returning
Python values (lists of dicts, pandas DataFrames, kubectl's text). Safe to call from
any thread. Leaving ``with Cluster(...)`` (or ``stop()``) stops everything it started.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from nbcluster.api.resources import resolve
from nbcluster.cli import apply as apply_verbs
from nbcluster.cli.kubectl import Kubectl
from nbcluster.cli.tables import table
from nbcluster.control.apiserver import Selector
from nbcluster.control.plane import ControlPlane, NodeSpec, PlaneOptions
from nbcluster.errors import BadRequest, Timeout
from nbcluster.runtime import Runtime
from nbcluster.util.clock import Clock, RealClock, ScaledClock
from nbcluster.util.jsoncopy import deep_copy

__all__ = ["Cluster", "choose_runtime", "node_names"]

Obj = dict[str, Any]


def node_names(cluster: str, count: int) -> list[NodeSpec]:
    """k3d-style nodes: one control-plane node (schedulable, like k3d's server) + agents."""
    if count < 1:
        raise BadRequest("a cluster needs at least one node")
    nodes = [NodeSpec(name=f"{cluster}-control-plane", control_plane=True)]
    nodes += [NodeSpec(name=f"{cluster}-agent-{i}") for i in range(count - 1)]
    return nodes


def choose_runtime(
    runtime: str | Runtime, *, capacity: dict[str, str] | None = None, clock: Clock | None = None
) -> tuple[Runtime, str]:
    """The runtime object and one sentence saying why it was chosen.

    ``"auto"`` (and ``NBCLUSTER_RUNTIME``) follow :func:`nbcluster.cli.contexts.choose_runtime`:
    Docker when a daemon answers, else the process runtime, else simulated.
    """
    if isinstance(runtime, Runtime):
        return runtime, "given"
    from nbcluster.cli.contexts import choose_runtime as pick

    name, reason = pick(runtime)
    if name == "docker":
        from nbcluster.runtime.docker import DockerRuntime

        return DockerRuntime(capacity=capacity), reason
    from nbcluster.runtime.simulated import SimulatedRuntime

    # The simulated runtime's durations and probes run on the cluster's clock (speed=...).
    return SimulatedRuntime(clock, capacity=capacity), reason


class Cluster:
    """A running cluster. ``Cluster(name="demo", runtime="simulated", nodes=3)``."""

    def __init__(
        self,
        name: str = "nbcluster",
        *,
        runtime: str | Runtime = "auto",
        nodes: int = 1,
        state_dir: str | Path | None = None,
        clock: Clock | None = None,
        speed: float | None = None,
        capacity: dict[str, str] | None = None,
        record_events: bool = True,
        monitor_grace_seconds: float = 40.0,
        start: bool = True,
    ) -> None:
        self.name = name
        if clock is None:
            clock = ScaledClock(speed) if speed else RealClock()
        self.clock = clock
        self.runtime, self.runtime_reason = choose_runtime(runtime, capacity=capacity, clock=clock)
        self.options = PlaneOptions(
            name=name,
            nodes=node_names(name, nodes),
            state_dir=Path(state_dir).expanduser() if state_dir else None,
            clock=clock,
            record_events=record_events,
            monitor_grace_seconds=monitor_grace_seconds,
        )
        self.plane = ControlPlane(self.runtime, self.options)
        self.api = self.plane.api
        self._kubectl = Kubectl(self)
        #: The namespace verbs use when none is given (``config set-context --namespace``).
        self.namespace = "default"
        if start:
            self.start()

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Cluster:
        self.plane.start()
        return self

    def stop(self) -> None:
        self.plane.stop()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.plane.running

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Cluster {self.name!r} runtime={self.runtime.name} nodes={len(self.options.nodes)} {state}>"

    # -- manifests -----------------------------------------------------------

    def apply(
        self,
        source: apply_verbs.Source,
        *,
        namespace: str | None = None,
        dry_run: str | None = None,
        recursive: bool = False,
    ) -> list[str]:
        """``kubectl apply``: YAML text, a path, a dict or a list of dicts."""
        return apply_verbs.apply(
            self.api,
            source,
            namespace=namespace,
            default_namespace=self.namespace,
            dry_run=dry_run,
            recursive=recursive,
        )

    def create(
        self, source: apply_verbs.Source, *, namespace: str | None = None, dry_run: str | None = None
    ) -> list[str]:
        return apply_verbs.create(
            self.api, source, namespace=namespace, default_namespace=self.namespace, dry_run=dry_run
        )

    def delete(
        self, source: apply_verbs.Source, *, namespace: str | None = None, ignore_not_found: bool = False
    ) -> list[str]:
        return apply_verbs.delete(
            self.api,
            source,
            namespace=namespace,
            default_namespace=self.namespace,
            ignore_not_found=ignore_not_found,
        )

    # -- reading -------------------------------------------------------------

    def objects(
        self,
        resource: str,
        *,
        namespace: str | None = None,
        selector: str | None = None,
        field_selector: str | None = None,
        all_namespaces: bool = False,
    ) -> list[Obj]:
        """Objects as Kubernetes JSON (copies), sorted by namespace and name."""
        info = resolve(resource)
        ns = None if all_namespaces or not info.namespaced else (namespace or self.namespace)
        return self.api.list(info, namespace=ns, label_selector=selector, field_selector=field_selector)[
            "items"
        ]

    def get(
        self,
        resource: str,
        *,
        namespace: str | None = None,
        selector: str | None = None,
        field_selector: str | None = None,
        all_namespaces: bool = False,
        wide: bool = False,
    ) -> pd.DataFrame:
        """``kubectl get`` as a DataFrame with kubectl's columns."""
        items = self.objects(
            resource,
            namespace=namespace,
            selector=selector,
            field_selector=field_selector,
            all_namespaces=all_namespaces,
        )
        return table(resolve(resource), items, now=self.clock.now(), wide=wide, all_namespaces=all_namespaces)

    def kubectl(self, line: str, **options: Any) -> Any:
        """Any kubectl-style verb line: ``c.kubectl("scale deploy/web --replicas=5 -n ns")``.

        ``options`` go to :meth:`Kubectl.run` (``stdin=`` for ``-f -``, ``out=``/``err=`` for
        lines printed as they happen).
        """
        return self._kubectl.run(line, **options)

    # -- waiting -------------------------------------------------------------

    def wait(
        self,
        resource: str,
        *,
        namespace: str | None = None,
        selector: str | None = None,
        condition: str | Callable[[Obj], bool] = "Ready",
        count: int | None = None,
        timeout: float = 30.0,
        name: str | None = None,
    ) -> list[Obj]:
        """Wait until ``count`` objects (default: all, at least one) meet ``condition``.

        ``condition`` is a condition type (``Ready``, ``Available``, ``Complete``), a
        pod phase (``Running``, ``Succeeded``), ``deleted``, or a predicate.
        """
        info = resolve(resource)
        ns = (namespace or self.namespace) if info.namespaced else None
        label_selector = Selector(selector) if selector else None
        deadline = time.monotonic() + timeout
        with self.api.watch(info, namespace=ns) as watch:
            while True:
                items = [
                    o
                    for o in self.api.cached_list(info, ns, label_selector)
                    if name is None or o["metadata"]["name"] == name
                ]
                if condition == "deleted":
                    if (count is None and not items) or (count is not None and len(items) <= count):
                        return []
                else:
                    met = [o for o in items if _meets(o, condition)]
                    wanted = count if count is not None else max(1, len(items))
                    if len(met) >= wanted and (count is not None or len(met) == len(items)):
                        return [deep_copy(o) for o in met]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    have = (
                        len(items)
                        if condition == "deleted"
                        else len([o for o in items if _meets(o, condition)])
                    )
                    raise Timeout(
                        f"timed out waiting for {info.plural} to be {condition if isinstance(condition, str) else 'ready'}"
                        f" ({have} of {count if count is not None else len(items)})"
                    )
                watch.get(timeout=min(remaining, 0.5))


def _meets(obj: Obj, condition: str | Callable[[Obj], bool]) -> bool:
    if callable(condition):
        return bool(condition(obj))
    status = obj.get("status") or {}
    if status.get("phase") == condition:
        return True
    for item in status.get("conditions") or ():
        if item.get("type") == condition and item.get("status") == "True":
            return True
    return False
