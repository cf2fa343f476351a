"""Deciding what to do with a pod's containers: kubelet's computePodActions. Pure, no I/O.

A port of ``pkg/kubelet/kuberuntime/kuberuntime_manager.go`` (``computePodActions``,
``computeInitContainerActions`` with native sidecars, ``ShouldContainerBeRestarted``): given
the pod and what the runtime holds for it (:class:`ObservedPod`: the sandbox, the latest
instance of every container, probe verdicts), return :class:`PodActions` — create a
sandbox?, kill the pod?, which init containers to start, which app containers to start,
which containers to kill and why. Restart backoff, image pulls and configuration errors
are the doing layer's business (they happen while starting, as in kubelet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "KillInfo",
    "ObservedContainer",
    "ObservedPod",
    "PodActions",
    "compute_pod_actions",
    "container_succeeded",
    "is_init_container_failed",
    "is_restartable_init_container",
    "should_container_be_restarted",
]

Obj = dict[str, Any]

RUNNING = "running"
EXITED = "exited"
CREATED = "created"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ObservedContainer:
    """The latest instance of one container as the runtime reports it."""

    name: str
    id: str
    state: str  # running | exited | created | unknown
    exit_code: int | None = None
    reason: str | None = None
    #: The container spec this instance was created from (detects "definition changed").
    spec: Obj | None = None
    #: Probe verdicts for this instance: None = no probe / no verdict yet.
    liveness: bool | None = None
    startup: bool | None = None
    #: Clock seconds when the newest exited instance of this container finished (backoff).
    last_finished: float | None = None


@dataclass(frozen=True, slots=True)
class ObservedPod:
    sandbox_ready: bool = False
    #: How many sandboxes were made for the pod so far.
    sandbox_attempts: int = 0
    containers: Mapping[str, ObservedContainer] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KillInfo:
    name: str
    message: str
    reason: str = ""  # liveness | startup | "" (kubelet's containerKillReason)


@dataclass(slots=True)
class PodActions:
    kill_pod: bool = False
    create_sandbox: bool = False
    init_containers_to_start: list[int] = field(default_factory=list)
    containers_to_start: list[int] = field(default_factory=list)
    #: container id -> why it is killed
    containers_to_kill: dict[str, KillInfo] = field(default_factory=dict)

    def is_noop(self) -> bool:
        return not (
            self.kill_pod
            or self.create_sandbox
            or self.init_containers_to_start
            or self.containers_to_start
            or self.containers_to_kill
        )


def is_restartable_init_container(container: Obj) -> bool:
    return container.get("restartPolicy") == "Always"


def is_init_container_failed(status: ObservedContainer) -> bool:
    if status.reason == "OOMKilled":
        return True
    if status.state == EXITED and status.exit_code != 0:
        return True
    return status.state == UNKNOWN


def container_succeeded(status: ObservedContainer | None) -> bool:
    return status is not None and status.state != RUNNING and status.exit_code == 0


def should_container_be_restarted(container: Obj, pod: Obj, status: ObservedContainer | None) -> bool:
    """``kubecontainer.ShouldContainerBeRestarted``."""
    if pod["metadata"].get("deletionTimestamp"):
        return False
    if status is None:
        return True
    if status.state == RUNNING:
        return False
    if status.state in (UNKNOWN, CREATED):
        return True
    if is_restartable_init_container(container):
        return True
    policy = pod["spec"].get("restartPolicy") or "Always"
    if policy == "Never":
        return False
    return not (policy == "OnFailure" and status.exit_code == 0)


def _spec_changed(container: Obj, status: ObservedContainer) -> bool:
    old = status.spec
    if old is None or old is container:
        return False
    return {k: v for k, v in old.items() if k != "resources"} != {
        k: v for k, v in container.items() if k != "resources"
    }


def compute_pod_actions(pod: Obj, observed: ObservedPod) -> PodActions:
    """What the kubelet should do next for ``pod`` (computePodActions)."""
    spec = pod["spec"]
    containers: list[Obj] = spec.get("containers") or []
    init_containers: list[Obj] = spec.get("initContainers") or []
    policy = spec.get("restartPolicy") or "Always"
    restart_on_failure = policy != "Never"
    statuses = observed.containers

    create_sandbox = not observed.sandbox_ready
    actions = PodActions(kill_pod=create_sandbox, create_sandbox=create_sandbox)
    if create_sandbox:
        if not restart_on_failure and observed.sandbox_attempts != 0 and statuses:
            # The pod ran before and must not run again: only make sure it is dead.
            actions.create_sandbox = False
            return actions
        to_start = [
            i
            for i, c in enumerate(containers)
            if not (policy == "OnFailure" and container_succeeded(statuses.get(c["name"])))
        ]
        if not to_start:
            actions.create_sandbox = False
            return actions
        if init_containers:
            actions.init_containers_to_start = [0]
            return actions
        actions.containers_to_start = to_start
        return actions

    initialized = _compute_init_actions(pod, observed, actions)
    if actions.kill_pod or not initialized:
        return actions

    keep = 0
    for index, container in enumerate(containers):
        status = statuses.get(container["name"])
        if status is None or status.state != RUNNING:
            if should_container_be_restarted(container, pod, status):
                actions.containers_to_start.append(index)
                if status is not None and status.state == UNKNOWN:
                    actions.containers_to_kill[status.id] = KillInfo(
                        container["name"],
                        f"Container is in {status.state!r} state, try killing it before restart",
                    )
            continue
        restart = restart_on_failure
        reason = ""
        name = container["name"]
        if _spec_changed(container, status):
            message = f"Container {name} definition changed"
            restart = True
        elif status.liveness is False:
            message = f"Container {name} failed liveness probe"
            reason = "liveness"
        elif status.startup is False:
            message = f"Container {name} failed startup probe"
            reason = "startup"
        else:
            keep += 1
            continue
        if restart:
            message += ", will be restarted"
            actions.containers_to_start.append(index)
        actions.containers_to_kill[status.id] = KillInfo(name, message, reason)

    if keep == 0 and not actions.containers_to_start:
        actions.kill_pod = True
        # Sidecars must not keep a finished pod alive.
        actions.init_containers_to_start = []
    return actions


def _compute_init_actions(pod: Obj, observed: ObservedPod, actions: PodActions) -> bool:
    """computeInitContainerActions; True when the pod has been initialized."""
    spec = pod["spec"]
    init_containers: list[Obj] = spec.get("initContainers") or []
    if not init_containers:
        return True
    statuses = observed.containers
    restart_on_failure = (spec.get("restartPolicy") or "Always") != "Never"

    initialized = any(
        (s := statuses.get(c["name"])) is not None and s.state in (CREATED, RUNNING)
        for c in spec.get("containers") or ()
    )
    previously_initialized = initialized
    to_start: list[int] = []
    last = len(init_containers) - 1

    for i in range(last, -1, -1):
        container = init_containers[i]
        name = container["name"]
        restartable = is_restartable_init_container(container)
        status = statuses.get(name)
        if status is None:
            if previously_initialized and restartable:
                to_start.append(i)
            continue
        if previously_initialized and not restartable:
            continue

        if status.state == CREATED:
            to_start.append(i)
        elif status.state == RUNNING:
            if restartable:
                done = False
                if container.get("startupProbe") is not None:
                    if status.startup is None:
                        done = True  # wait for the startup probe's verdict
                    elif status.startup is False:
                        actions.containers_to_kill[status.id] = KillInfo(
                            name, f"Init container {name} failed startup probe", "startup"
                        )
                        to_start.append(i)
                        done = True
                if not done:
                    if i == last:
                        initialized = True
                    elif not previously_initialized:
                        to_start.append(i + 1)
                    if _spec_changed(container, status):
                        actions.containers_to_kill[status.id] = KillInfo(
                            name, f"Init container {name} definition changed", ""
                        )
                        to_start.append(i)
                    elif container.get("livenessProbe") is not None and status.liveness is False:
                        actions.containers_to_kill[status.id] = KillInfo(
                            name, f"Init container {name} failed liveness probe", "liveness"
                        )
                        to_start.append(i)
        elif status.state == EXITED:
            if restartable:
                to_start.append(i)
            elif is_init_container_failed(status):
                if not restart_on_failure:
                    actions.kill_pod = True
                    actions.init_containers_to_start = []
                    return False
                to_start.append(i)
            elif i == last:
                initialized = True
            else:
                to_start.append(i + 1)
        else:  # unknown
            if restartable:
                actions.containers_to_kill[status.id] = KillInfo(
                    name, f"Init container is in {status.state!r} state, try killing it before restart"
                )
                to_start.append(i)
            else:
                if not restart_on_failure:
                    actions.kill_pod = True
                    actions.init_containers_to_start = []
                    return False
                actions.containers_to_kill[status.id] = KillInfo(
                    name, f"Init container is in {status.state!r} state, try killing it before restart"
                )
                to_start.append(i)

        if not previously_initialized:
            previously_initialized = True

    if not previously_initialized:
        to_start.append(0)
    to_start.reverse()
    actions.init_containers_to_start = to_start
    return initialized
