"""Building a pod's status as the kubelet does. Pure, no I/O.

Ports of ``pkg/kubelet/kubelet_pods.go`` (``getPhase``, ``convertToAPIContainerStatuses``)
and ``pkg/kubelet/status/generate.go`` (the PodReadyToStartContainers, Initialized, Ready
and ContainersReady conditions), plus the status manager's rule that a condition keeps its
``lastTransitionTime`` while its status does not change. Also ``pod_status_text``: the
STATUS column ``kubectl get pods`` derives from all this (Init:0/2, CrashLoopBackOff...).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from nbcluster.runtime.interface import ContainerState, ContainerStatus
from nbcluster.util.clock import format_time

__all__ = [
    "KUBELET_CONDITIONS",
    "container_status",
    "get_phase",
    "has_any_regular_container_started",
    "pod_conditions",
    "pod_status_text",
    "terminated_unknown",
]

Obj = dict[str, Any]

#: Condition types the kubelet owns (others, like readiness gates', are kept as found).
KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


def _go_list(names: Iterable[str]) -> str:
    return "[" + " ".join(names) + "]"


# -- container statuses ------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _stamp(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def _state_of(status: ContainerStatus, runtime: str) -> Obj:
    if status.state is ContainerState.RUNNING:
        return {"running": {"startedAt": _stamp(status.started_at)}}
    if status.state is ContainerState.EXITED:
        terminated: Obj = {
            "containerID": f"{runtime}://{status.id}",
            "exitCode": status.exit_code if status.exit_code is not None else 0,
            "finishedAt": _stamp(status.finished_at),
            "reason": status.reason or ("Completed" if not status.exit_code else "Error"),
            "startedAt": _stamp(status.started_at),
        }
        if status.message:
            terminated["message"] = status.message
        return {"terminated": terminated}
    return {"waiting": {}}


def terminated_unknown() -> Obj:
    """The state of a container the kubelet lost track of when the pod terminated."""
    return {
        "terminated": {
            "exitCode": 137,
            "reason": "ContainerStatusUnknown",
            "message": "The container could not be located when the pod was terminated",
            "startedAt": None,
            "finishedAt": None,
        }
    }


def container_status(
    name: str,
    image: str,
    *,
    runtime: str,
    current: ContainerStatus | None,
    previous: ContainerStatus | None = None,
    restart_count: int = 0,
    ready: bool = False,
    started: bool = False,
    waiting: tuple[str, str] | None = None,
    default_reason: str = "ContainerCreating",
    old: Obj | None = None,
) -> Obj:
    """One entry of ``containerStatuses`` / ``initContainerStatuses``.

    ``waiting`` is the kubelet's reason cache entry (CrashLoopBackOff, ErrImagePull...),
    applied only when the caller knows the container will be (re)started.
    """
    status: Obj = {
        "name": name,
        "image": image,
        "imageID": "",
        "lastState": {},
        "ready": False,
        "restartCount": restart_count,
        "started": False,
    }
    if current is None:
        if old is not None and "terminated" in (old.get("state") or {}) and waiting is None:
            return old
        state: Obj = {"waiting": {"reason": default_reason}}
        if previous is not None:
            status["lastState"] = _state_of(previous, runtime)
        elif old is not None:
            status["lastState"] = old.get("lastState") or {}
    else:
        state = _state_of(current, runtime)
        status["containerID"] = f"{runtime}://{current.id}"
        if current.image:
            status["image"] = current.image
        status["imageID"] = current.image_id
        status["ready"] = ready
        status["started"] = started if current.state is ContainerState.RUNNING else False
        if previous is not None:
            status["lastState"] = _state_of(previous, runtime)
    if waiting is not None:
        if "terminated" in state:
            status["lastState"] = state
        reason, message = waiting
        state = {"waiting": {"reason": reason, "message": message} if message else {"reason": reason}}
        status["ready"] = False
        status["started"] = False
    status["state"] = state
    return status


# -- phase ---------------------------------------------------------------------------------


def _index(statuses: Iterable[Obj]) -> dict[str, Obj]:
    return {s["name"]: s for s in statuses}


def has_any_regular_container_started(spec: Obj, statuses: Iterable[Obj]) -> bool:
    names = {c["name"] for c in spec.get("containers") or ()}
    for status in statuses:
        if status["name"] in names:
            state = status.get("state") or {}
            if "running" in state or "terminated" in state:
                return True
    return False


def get_phase(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], pod_is_terminal: bool = False) -> str:
    """kubelet's ``getPhase`` (with native sidecars)."""
    init_by_name = _index(init_statuses)
    by_name = _index(statuses)
    pending_initialization = 0
    failed_initialization = 0
    init_containers = spec.get("initContainers") or []
    for container in init_containers:
        if container.get("restartPolicy") == "Always":
            continue
        status = init_by_name.get(container["name"])
        if status is None:
            pending_initialization += 1
            continue
        state = status.get("state") or {}
        if "running" in state:
            pending_initialization += 1
        elif "terminated" in state:
            if state["terminated"].get("exitCode", 0) != 0:
                failed_initialization += 1
        elif "waiting" in state:
            last = (status.get("lastState") or {}).get("terminated")
            if last is not None:
                if last.get("exitCode", 0) != 0:
                    failed_initialization += 1
            else:
                pending_initialization += 1
        else:
            pending_initialization += 1

    unknown = running = waiting = stopped = succeeded = 0
    for container in init_containers:
        if container.get("restartPolicy") != "Always":
            continue
        status = init_by_name.get(container["name"])
        if status is None:
            unknown += 1
            continue
        state = status.get("state") or {}
        if "running" in state:
            if not status.get("started"):
                pending_initialization += 1
            running += 1
        elif "terminated" in state:
            pass
        elif "waiting" in state:
            if (status.get("lastState") or {}).get("terminated") is None:
                pending_initialization += 1
                waiting += 1
        else:
            pending_initialization += 1
            unknown += 1

    for container in spec.get("containers") or ():
        status = by_name.get(container["name"])
        if status is None:
            unknown += 1
            continue
        state = status.get("state") or {}
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode", 0) == 0:
                succeeded += 1
        elif "waiting" in state:
            if (status.get("lastState") or {}).get("terminated") is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1

    policy = spec.get("restartPolicy") or "Always"
    if failed_initialization > 0 and policy == "Never":
        return "Failed"
    if (pending_initialization > 0 and not has_any_regular_container_started(spec, statuses)) or waiting > 0:
        return "Pending"
    if running > 0 and unknown == 0:
        return "Running"
    if running == 0 and stopped > 0 and unknown == 0:
        if pod_is_terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


# -- conditions ------------------------------------------------------------------------------


def _initialized(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], phase: str) -> Obj:
    init_containers = spec.get("initContainers") or []
    if not init_containers:
        if phase == "Succeeded":
            return {"type": "Initialized", "status": "True", "reason": "PodCompleted"}
        return {"type": "Initialized", "status": "True"}
    by_name = _index(init_statuses)
    unknown: list[str] = []
    incomplete: list[str] = []
    for container in init_containers:
        status = by_name.get(container["name"])
        if status is None:
            unknown.append(container["name"])
            continue
        if container.get("restartPolicy") == "Always":
            if not status.get("started"):
                incomplete.append(container["name"])
            continue
        terminated = (status.get("state") or {}).get("terminated")
        if terminated is None or terminated.get("exitCode", 0) != 0:
            incomplete.append(container["name"])
    if phase == "Succeeded" and not unknown:
        return {"type": "Initialized", "status": "True", "reason": "PodCompleted"}
    if has_any_regular_container_started(spec, statuses):
        return {"type": "Initialized", "status": "True"}
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_go_list(unknown)}")
    if incomplete:
        messages.append(f"containers with incomplete status: {_go_list(incomplete)}")
    if messages:
        return {
            "type": "Initialized",
            "status": "False",
            "reason": "ContainersNotInitialized",
            "message": ", ".join(messages),
        }
    return {"type": "Initialized", "status": "True"}


def _containers_ready(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], phase: str) -> Obj:
    unknown: list[str] = []
    unready: list[str] = []
    if init_statuses:
        init_by_name = _index(init_statuses)
        for container in spec.get("initContainers") or ():
            if container.get("restartPolicy") != "Always":
                continue
            status = init_by_name.get(container["name"])
            if status is None:
                unknown.append(container["name"])
            elif not status.get("ready"):
                unready.append(container["name"])
    by_name = _index(statuses)
    for container in spec.get("containers") or ():
        status = by_name.get(container["name"])
        if status is None:
            unknown.append(container["name"])
        elif not status.get("ready"):
            unready.append(container["name"])
    if (phase == "Succeeded" and not unknown) or phase == "Failed":
        return {
            "type": "ContainersReady",
            "status": "False",
            "reason": "PodCompleted" if phase == "Succeeded" else "PodFailed",
        }
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_go_list(unknown)}")
    if unready:
        messages.append(f"containers with unready status: {_go_list(unready)}")
    if messages:
        return {
            "type": "ContainersReady",
            "status": "False",
            "reason": "ContainersNotReady",
            "message": ", ".join(messages),
        }
    return {"type": "ContainersReady", "status": "True"}


def _ready(spec: Obj, containers_ready: Obj, conditions: Mapping[str, Obj]) -> Obj:
    if containers_ready["status"] != "True":
        ready = {"type": "Ready", "status": "False"}
        for key in ("reason", "message"):
            if key in containers_ready:
                ready[key] = containers_ready[key]
        return ready
    unready: list[str] = []
    for gate in spec.get("readinessGates") or ():
        kind = gate.get("conditionType", "")
        condition = conditions.get(kind)
        if condition is None:
            unready.append(f'corresponding condition of pod readiness gate "{kind}" does not exist.')
        elif condition.get("status") != "True":
            unready.append(
                f'the status of pod readiness gate "{kind}" is not "True", but {condition.get("status")}'
            )
    if unready:
        return {
            "type": "Ready",
            "status": "False",
            "reason": "ReadinessGatesNotReady",
            "message": ", ".join(unready),
        }
    return {"type": "Ready", "status": "True"}


def pod_conditions(
    pod: Obj, phase: str, init_statuses: list[Obj], statuses: list[Obj], *, sandbox_ready: bool, now: str
) -> list[Obj]:
    """The pod's conditions: others' first, then the kubelet's, transition times kept."""
    spec = pod["spec"]
    old_conditions: list[Obj] = (pod.get("status") or {}).get("conditions") or []
    old_by_type = {c.get("type"): c for c in old_conditions}
    out = [c for c in old_conditions if c.get("type") not in KUBELET_CONDITIONS]
    containers_ready = _containers_ready(spec, init_statuses, statuses, phase)
    generated = [
        {"type": "PodReadyToStartContainers", "status": "True" if sandbox_ready else "False"},
        _initialized(spec, init_statuses, statuses, phase),
        _ready(spec, containers_ready, old_by_type),
        containers_ready,
    ]
    scheduled = old_by_type.get("PodScheduled")
    for condition in generated:
        old = old_by_type.get(condition["type"])
        condition["lastProbeTime"] = None
        if old is not None and old.get("status") == condition["status"] and old.get("lastTransitionTime"):
            condition["lastTransitionTime"] = old["lastTransitionTime"]
        else:
            condition["lastTransitionTime"] = now
        out.append(condition)
    if scheduled is not None:
        out.append(scheduled)
    else:
        out.append(
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
        )
    return out


# -- what kubectl prints ------------------------------------------------------------------------


def pod_status_text(pod: Obj) -> str:
    """The STATUS column of ``kubectl get pods`` (printPod in pkg/printers/internalversion)."""
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    reason = status.get("reason") or status.get("phase") or ""
    init_specs = spec.get("initContainers") or []
    restartable = {c["name"] for c in init_specs if c.get("restartPolicy") == "Always"}
    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for index, container in enumerate(init_statuses):
        state = container.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if container["name"] in restartable and "running" in state and container.get("started"):
            continue
        if terminated is not None:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode', 0)}"
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break
    if not initializing or has_any_regular_container_started(spec, status.get("containerStatuses") or []):
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            state = container.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                reason = (
                    f"Signal:{terminated['signal']}"
                    if terminated.get("signal")
                    else f"ExitCode:{terminated.get('exitCode', 0)}"
                )
            elif "running" in state and container.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            reason = (
                "Running"
                if any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in status.get("conditions") or []
                )
                else "NotReady"
            )
    if pod.get("metadata", {}).get("deletionTimestamp") and status.get("phase") not in (
        "Succeeded",
        "Failed",
    ):
        reason = "Terminating"
    return reason
