"""Pod phase, conditions and container statuses as the kubelet builds them (after kubelet_pods_test.go)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from nbcluster.control.kubelet.status import container_status, get_phase, pod_conditions, pod_status_text
from nbcluster.runtime.interface import ContainerState, ContainerStatus

Obj = dict[str, Any]
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T1 = datetime(2026, 1, 1, 0, 0, 5, tzinfo=timezone.utc)


def spec(
    policy: str = "Always",
    containers: tuple[str, ...] = ("a", "b"),
    init: tuple[str, ...] = (),
    sidecars: tuple[str, ...] = (),
) -> Obj:
    init_specs: list[Obj] = [{"name": n} for n in init] + [
        {"name": n, "restartPolicy": "Always"} for n in sidecars
    ]
    return {
        "restartPolicy": policy,
        "containers": [{"name": n} for n in containers],
        "initContainers": init_specs,
    }


def st(
    name: str, state: Obj, *, last: Obj | None = None, ready: bool = False, started: bool | None = None
) -> Obj:
    status = {"name": name, "state": state, "lastState": last or {}, "ready": ready}
    status["started"] = bool(started) if started is not None else "running" in state
    return status


RUNNING = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
WAITING = {"waiting": {"reason": "ContainerCreating"}}


def done(code: int = 0) -> Obj:
    return {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}


# -- getPhase --------------------------------------------------------------------------------


def test_phase_running_and_pending() -> None:
    assert get_phase(spec(), [], [st("a", RUNNING), st("b", RUNNING)]) == "Running"
    assert get_phase(spec(), [], [st("a", RUNNING), st("b", WAITING)]) == "Pending"
    assert get_phase(spec(), [], [st("a", RUNNING)]) == "Pending"  # b unknown
    assert get_phase(spec(), [], []) == "Pending"


def test_phase_with_stopped_containers_follows_restart_policy() -> None:
    both_done = [st("a", done(0)), st("b", done(0))]
    one_failed = [st("a", done(0)), st("b", done(1))]
    assert get_phase(spec("Always"), [], both_done) == "Running"
    assert get_phase(spec("OnFailure"), [], both_done) == "Succeeded"
    assert get_phase(spec("OnFailure"), [], one_failed) == "Running"
    assert get_phase(spec("Never"), [], one_failed) == "Failed"
    assert get_phase(spec("Never"), [], both_done) == "Succeeded"


def test_phase_of_a_terminal_pod_ignores_the_restart_policy() -> None:
    assert (
        get_phase(spec("Always"), [], [st("a", done(0)), st("b", done(0))], pod_is_terminal=True)
        == "Succeeded"
    )
    assert (
        get_phase(spec("Always"), [], [st("a", done(0)), st("b", done(137))], pod_is_terminal=True)
        == "Failed"
    )


def test_phase_counts_a_crash_looping_container_as_stopped() -> None:
    crash = st("a", {"waiting": {"reason": "CrashLoopBackOff"}}, last=done(1))
    assert get_phase(spec("Always"), [], [crash, st("b", RUNNING)]) == "Running"
    assert get_phase(spec("Always", containers=("a",)), [], [crash]) == "Running"


def test_phase_while_initializing() -> None:
    s = spec(init=("i1", "i2"))
    waiting = {"waiting": {"reason": "PodInitializing"}}
    assert (
        get_phase(s, [st("i1", RUNNING), st("i2", waiting)], [st("a", waiting), st("b", waiting)])
        == "Pending"
    )
    assert (
        get_phase(spec("Never", init=("i1",)), [st("i1", done(1))], [st("a", waiting), st("b", waiting)])
        == "Failed"
    )
    retrying = st("i1", {"waiting": {"reason": "CrashLoopBackOff"}}, last=done(1))
    assert (
        get_phase(spec("OnFailure", init=("i1",)), [retrying], [st("a", waiting), st("b", waiting)])
        == "Pending"
    )


def test_phase_with_sidecars() -> None:
    s = spec("Never", containers=("a",), sidecars=("proxy",))
    assert get_phase(s, [st("proxy", RUNNING, started=False)], [st("a", WAITING)]) == "Pending"
    assert get_phase(s, [st("proxy", RUNNING, started=True)], [st("a", RUNNING)]) == "Running"
    # A sidecar still running does not keep a finished pod Running, once it is stopped.
    assert get_phase(s, [st("proxy", done(137))], [st("a", done(0))]) == "Succeeded"


# -- conditions ------------------------------------------------------------------------------


def _pod(s: Obj, conditions: list[Obj] | None = None) -> Obj:
    return {"metadata": {"name": "p"}, "spec": s, "status": {"conditions": conditions or []}}


def _by_type(conditions: list[Obj]) -> dict[str, Obj]:
    return {c["type"]: c for c in conditions}


def test_conditions_of_a_running_ready_pod_keep_pod_scheduled() -> None:
    scheduled = {
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": None,
        "lastTransitionTime": "2025-12-31T23:59:00Z",
    }
    gate = {"type": "example.com/gate", "status": "True"}
    statuses = [st("a", RUNNING, ready=True), st("b", RUNNING, ready=True)]
    out = pod_conditions(
        _pod(spec(), [gate, scheduled]),
        "Running",
        [],
        statuses,
        sandbox_ready=True,
        now="2026-01-01T00:00:00Z",
    )
    assert [c["type"] for c in out] == [
        "example.com/gate",
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert all(c["status"] == "True" for c in out)
    assert out[-1] is scheduled


def test_unready_containers_are_named_like_kubernetes() -> None:
    statuses = [st("a", RUNNING, ready=False), st("b", WAITING)]
    out = _by_type(pod_conditions(_pod(spec()), "Pending", [], statuses, sandbox_ready=True, now="t"))
    assert out["ContainersReady"]["reason"] == "ContainersNotReady"
    assert out["ContainersReady"]["message"] == "containers with unready status: [a b]"
    assert out["Ready"]["message"] == "containers with unready status: [a b]"
    out = _by_type(
        pod_conditions(
            _pod(spec()), "Pending", [], [st("a", RUNNING, ready=True)], sandbox_ready=False, now="t"
        )
    )
    assert out["Ready"]["message"] == "containers with unknown status: [b]"
    assert out["PodReadyToStartContainers"]["status"] == "False"


def test_initialized_condition_lists_incomplete_init_containers() -> None:
    s = spec(init=("i1", "i2"))
    init = [st("i1", done(0)), st("i2", RUNNING)]
    out = _by_type(
        pod_conditions(
            _pod(s), "Pending", init, [st("a", WAITING), st("b", WAITING)], sandbox_ready=True, now="t"
        )
    )
    assert out["Initialized"] == {
        "type": "Initialized",
        "status": "False",
        "reason": "ContainersNotInitialized",
        "message": "containers with incomplete status: [i2]",
        "lastProbeTime": None,
        "lastTransitionTime": "t",
    }


def test_completed_and_failed_pods() -> None:
    statuses = [st("a", done(0)), st("b", done(0))]
    out = _by_type(
        pod_conditions(_pod(spec("Never")), "Succeeded", [], statuses, sandbox_ready=False, now="t")
    )
    assert out["Ready"]["reason"] == "PodCompleted" and out["ContainersReady"]["reason"] == "PodCompleted"
    assert out["Initialized"]["reason"] == "PodCompleted" and out["Initialized"]["status"] == "True"
    out = _by_type(pod_conditions(_pod(spec("Never")), "Failed", [], statuses, sandbox_ready=False, now="t"))
    assert out["Ready"]["reason"] == "PodFailed"


def test_readiness_gates() -> None:
    s = {**spec(containers=("a",)), "readinessGates": [{"conditionType": "example.com/lb"}]}
    statuses = [st("a", RUNNING, ready=True)]
    out = _by_type(pod_conditions(_pod(s), "Running", [], statuses, sandbox_ready=True, now="t"))
    assert out["Ready"]["status"] == "False" and out["Ready"]["reason"] == "ReadinessGatesNotReady"
    assert (
        out["Ready"]["message"]
        == 'corresponding condition of pod readiness gate "example.com/lb" does not exist.'
    )
    gate = {"type": "example.com/lb", "status": "False"}
    out = _by_type(pod_conditions(_pod(s, [gate]), "Running", [], statuses, sandbox_ready=True, now="t"))
    assert (
        out["Ready"]["message"]
        == 'the status of pod readiness gate "example.com/lb" is not "True", but False'
    )
    out = _by_type(
        pod_conditions(
            _pod(s, [{**gate, "status": "True"}]), "Running", [], statuses, sandbox_ready=True, now="t"
        )
    )
    assert out["Ready"]["status"] == "True"


def test_transition_time_is_kept_while_the_status_does_not_change() -> None:
    old = [{"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": "early"}]
    statuses = [st("a", RUNNING, ready=True)]
    out = _by_type(
        pod_conditions(
            _pod(spec(containers=("a",)), old), "Running", [], statuses, sandbox_ready=True, now="late"
        )
    )
    assert out["Ready"]["lastTransitionTime"] == "early"
    assert out["ContainersReady"]["lastTransitionTime"] == "late"
    out = _by_type(
        pod_conditions(
            _pod(spec(containers=("a",)), old),
            "Running",
            [],
            [st("a", RUNNING)],
            sandbox_ready=True,
            now="late",
        )
    )
    assert out["Ready"]["lastTransitionTime"] == "late"


# -- container statuses ------------------------------------------------------------------------


def runtime_status(
    state: ContainerState, code: int | None = None, reason: str | None = None
) -> ContainerStatus:
    return ContainerStatus(
        id="abc",
        name="a",
        state=state,
        exit_code=code,
        reason=reason,
        started_at=T0,
        finished_at=T1 if state is ContainerState.EXITED else None,
        image="docker.io/library/nginx:1.25",
        image_id="docker.io/library/nginx@sha256:1",
    )


def test_container_status_never_started() -> None:
    assert container_status("a", "nginx:1.25", runtime="simulated", current=None) == {
        "name": "a",
        "image": "nginx:1.25",
        "imageID": "",
        "lastState": {},
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {"waiting": {"reason": "ContainerCreating"}},
    }
    status = container_status(
        "a",
        "nginx",
        runtime="simulated",
        current=None,
        default_reason="PodInitializing",
        waiting=("CreateContainerConfigError", 'configmap "x" not found'),
    )
    assert status["state"] == {
        "waiting": {"reason": "CreateContainerConfigError", "message": 'configmap "x" not found'}
    }


def test_container_status_running_with_a_previous_instance() -> None:
    status = container_status(
        "a",
        "nginx:1.25",
        runtime="docker",
        current=runtime_status(ContainerState.RUNNING),
        previous=runtime_status(ContainerState.EXITED, 1, "Error"),
        restart_count=1,
        ready=True,
        started=True,
    )
    assert status["containerID"] == "docker://abc"
    assert status["state"] == {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    assert status["lastState"]["terminated"] == {
        "containerID": "docker://abc",
        "exitCode": 1,
        "reason": "Error",
        "startedAt": "2026-01-01T00:00:00Z",
        "finishedAt": "2026-01-01T00:00:05Z",
    }
    assert status["ready"] and status["started"] and status["restartCount"] == 1
    assert status["image"] == "docker.io/library/nginx:1.25"


def test_container_status_crash_loop_moves_terminated_to_last_state() -> None:
    status = container_status(
        "a",
        "nginx",
        runtime="simulated",
        current=runtime_status(ContainerState.EXITED, 1),
        restart_count=3,
        waiting=("CrashLoopBackOff", "back-off 40s restarting failed"),
    )
    assert status["state"] == {
        "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed"}
    }
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert status["ready"] is False and status["started"] is False


# -- what kubectl shows ------------------------------------------------------------------------------


def _printed(s: Obj, init: list[Obj], statuses: list[Obj], phase: str = "Pending", **status: Any) -> str:
    return pod_status_text(
        {
            "metadata": {},
            "spec": s,
            "status": {
                "phase": phase,
                "initContainerStatuses": init,
                "containerStatuses": statuses,
                **status,
            },
        }
    )


def test_status_column() -> None:
    s = spec(init=("i1", "i2"))
    waiting = {"waiting": {"reason": "PodInitializing"}}
    assert _printed(s, [st("i1", RUNNING), st("i2", waiting)], [st("a", waiting)]) == "Init:0/2"
    assert _printed(s, [st("i1", done(1)), st("i2", waiting)], [st("a", waiting)]) == "Init:Error"
    assert (
        _printed(
            s, [st("i1", {"waiting": {"reason": "CrashLoopBackOff"}}), st("i2", waiting)], [st("a", waiting)]
        )
        == "Init:CrashLoopBackOff"
    )
    assert _printed(s, [st("i1", done(0)), st("i2", done(0))], [st("a", waiting)]) == "PodInitializing"
    assert (
        _printed(spec(), [], [st("a", {"waiting": {"reason": "ErrImagePull"}}), st("b", RUNNING)])
        == "ErrImagePull"
    )
    assert _printed(spec(), [], [st("a", RUNNING, ready=True)], phase="Running") == "Running"
    assert _printed(spec(), [], [st("a", done(0))], phase="Succeeded") == "Completed"
    assert (
        _printed(
            spec(),
            [],
            [st("a", done(137) | {"terminated": {"exitCode": 137, "reason": "OOMKilled"}})],
            phase="Failed",
        )
        == "OOMKilled"
    )
