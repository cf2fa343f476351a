"""compute_pod_actions: kubelet's computePodActions, over snapshots (cases after kuberuntime_manager_test.go)."""

from __future__ import annotations

from typing import Any

from nbcluster.control.kubelet.actions import (
    KillInfo,
    ObservedContainer,
    ObservedPod,
    compute_pod_actions,
    should_container_be_restarted,
)

Obj = dict[str, Any]


def make(
    policy: str = "Always",
    containers: tuple[str, ...] = ("a", "b"),
    init: tuple[str, ...] = (),
    sidecars: tuple[str, ...] = (),
    deleting: bool = False,
    **container_extra: Any,
) -> Obj:
    init_specs = [{"name": n, "image": "busybox"} for n in init]
    for name in sidecars:
        init_specs.append({"name": name, "image": "envoy", "restartPolicy": "Always"})
    meta: Obj = {"name": "p", "namespace": "default", "uid": "u"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {
            "restartPolicy": policy,
            "containers": [{"name": n, "image": "nginx", **container_extra} for n in containers],
            "initContainers": init_specs,
        },
    }


def running(name: str, **kw: Any) -> ObservedContainer:
    return ObservedContainer(name=name, id=f"id-{name}", state="running", **kw)


def exited(name: str, code: int = 0, **kw: Any) -> ObservedContainer:
    return ObservedContainer(name=name, id=f"id-{name}", state="exited", exit_code=code, **kw)


def observed(
    *containers: ObservedContainer, sandbox: bool = True, attempts: int | None = None
) -> ObservedPod:
    return ObservedPod(
        sandbox_ready=sandbox,
        sandbox_attempts=(1 if sandbox else 0) if attempts is None else attempts,
        containers={c.name: c for c in containers},
    )


def test_new_pod_creates_a_sandbox_and_starts_every_container() -> None:
    actions = compute_pod_actions(make(), observed(sandbox=False))
    assert actions.create_sandbox and actions.kill_pod
    assert actions.containers_to_start == [0, 1]
    assert actions.init_containers_to_start == []


def test_new_pod_with_init_containers_starts_only_the_first() -> None:
    actions = compute_pod_actions(make(init=("i1", "i2")), observed(sandbox=False))
    assert actions.create_sandbox
    assert actions.init_containers_to_start == [0]
    assert actions.containers_to_start == []


def test_everything_running_is_a_noop() -> None:
    actions = compute_pod_actions(make(), observed(running("a"), running("b")))
    assert actions.is_noop()


def test_running_init_container_is_waited_for() -> None:
    actions = compute_pod_actions(make(init=("i1", "i2")), observed(running("i1")))
    assert actions.is_noop()


def test_finished_init_container_starts_the_next() -> None:
    actions = compute_pod_actions(make(init=("i1", "i2")), observed(exited("i1")))
    assert actions.init_containers_to_start == [1]
    assert actions.containers_to_start == []


def test_last_init_container_done_starts_the_app_containers() -> None:
    actions = compute_pod_actions(make(init=("i1", "i2")), observed(exited("i1"), exited("i2")))
    assert actions.init_containers_to_start == []
    assert actions.containers_to_start == [0, 1]


def test_failed_init_container_with_never_kills_the_pod() -> None:
    actions = compute_pod_actions(make("Never", init=("i1",)), observed(exited("i1", 1)))
    assert actions.kill_pod and actions.init_containers_to_start == [] and actions.containers_to_start == []


def test_failed_init_container_is_restarted_unless_never() -> None:
    for policy in ("Always", "OnFailure"):
        actions = compute_pod_actions(make(policy, init=("i1", "i2")), observed(exited("i1", 1)))
        assert not actions.kill_pod
        assert actions.init_containers_to_start == [0], policy


def test_oom_killed_init_container_counts_as_failed() -> None:
    status = ObservedContainer(name="i1", id="x", state="exited", exit_code=0, reason="OOMKilled")
    actions = compute_pod_actions(make("Never", init=("i1",)), observed(status))
    assert actions.kill_pod


def test_init_containers_are_not_rerun_once_an_app_container_runs() -> None:
    actions = compute_pod_actions(make(init=("i1",)), observed(running("a"), running("b")))
    assert actions.is_noop()


def test_exited_containers_follow_the_restart_policy() -> None:
    cases = {
        ("Always", 0): [0],
        ("Always", 1): [0],
        ("OnFailure", 0): [],
        ("OnFailure", 1): [0],
        ("Never", 0): [],
        ("Never", 1): [],
    }
    for (policy, code), expected in cases.items():
        actions = compute_pod_actions(make(policy), observed(exited("a", code), running("b")))
        assert actions.containers_to_start == expected, (policy, code)
        assert not actions.kill_pod


def test_all_containers_done_kills_the_pod() -> None:
    for policy, codes in (("Never", (0, 1)), ("OnFailure", (0, 0))):
        actions = compute_pod_actions(make(policy), observed(exited("a", codes[0]), exited("b", codes[1])))
        assert actions.kill_pod and not actions.create_sandbox and actions.containers_to_start == []


def test_failed_liveness_kills_and_restarts() -> None:
    actions = compute_pod_actions(make(), observed(running("a", liveness=False), running("b")))
    assert actions.containers_to_start == [0]
    assert actions.containers_to_kill == {
        "id-a": KillInfo("a", "Container a failed liveness probe, will be restarted", "liveness")
    }


def test_failed_liveness_with_never_kills_without_restart() -> None:
    actions = compute_pod_actions(make("Never"), observed(running("a", liveness=False), running("b")))
    assert actions.containers_to_start == []
    assert actions.containers_to_kill["id-a"].message == "Container a failed liveness probe"


def test_failed_startup_probe_kills_and_restarts() -> None:
    actions = compute_pod_actions(make(), observed(running("a", startup=False), running("b")))
    assert actions.containers_to_kill["id-a"] == KillInfo(
        "a", "Container a failed startup probe, will be restarted", "startup"
    )


def test_changed_definition_restarts_even_with_never() -> None:
    pod = make("Never")
    old_spec = {"name": "a", "image": "nginx:old"}
    actions = compute_pod_actions(pod, observed(running("a", spec=old_spec), running("b")))
    assert actions.containers_to_start == [0]
    assert actions.containers_to_kill["id-a"].message == "Container a definition changed, will be restarted"


def test_same_definition_is_kept() -> None:
    pod = make()
    actions = compute_pod_actions(
        pod, observed(running("a", spec=dict(pod["spec"]["containers"][0])), running("b"))
    )
    assert actions.is_noop()


def test_lost_sandbox_of_a_never_pod_is_not_recreated() -> None:
    actions = compute_pod_actions(
        make("Never"), observed(exited("a", 137), exited("b", 137), sandbox=False, attempts=1)
    )
    assert not actions.create_sandbox and actions.kill_pod


def test_lost_sandbox_of_an_on_failure_pod_restarts_only_the_failed() -> None:
    actions = compute_pod_actions(
        make("OnFailure"), observed(exited("a", 0), exited("b", 137), sandbox=False, attempts=1)
    )
    assert actions.create_sandbox
    assert actions.containers_to_start == [1]


def test_lost_sandbox_of_an_always_pod_restarts_everything() -> None:
    actions = compute_pod_actions(
        make(init=("i1",)), observed(exited("i1"), exited("a", 137), sandbox=False, attempts=1)
    )
    assert actions.create_sandbox
    assert actions.init_containers_to_start == [0]


def test_sidecar_running_lets_the_next_init_container_start() -> None:
    pod = make(init=("setup",), sidecars=())
    pod["spec"]["initContainers"].insert(0, {"name": "proxy", "image": "envoy", "restartPolicy": "Always"})
    actions = compute_pod_actions(pod, observed(running("proxy")))
    assert actions.init_containers_to_start == [1]


def test_sidecar_with_startup_probe_waits_for_it() -> None:
    pod = make(init=("setup",))
    pod["spec"]["initContainers"].insert(
        0,
        {
            "name": "proxy",
            "image": "envoy",
            "restartPolicy": "Always",
            "startupProbe": {"exec": {"command": ["true"]}},
        },
    )
    assert compute_pod_actions(pod, observed(running("proxy"))).is_noop()
    assert compute_pod_actions(pod, observed(running("proxy", startup=True))).init_containers_to_start == [1]
    failed = compute_pod_actions(pod, observed(running("proxy", startup=False)))
    assert failed.init_containers_to_start == [0]
    assert failed.containers_to_kill["id-proxy"].message == "Init container proxy failed startup probe"


def test_exited_sidecar_is_restarted_while_the_app_runs() -> None:
    pod = make(sidecars=("proxy",))
    actions = compute_pod_actions(pod, observed(exited("proxy", 1), running("a"), running("b")))
    assert actions.init_containers_to_start == [0]
    assert actions.containers_to_start == []


def test_sidecars_do_not_keep_a_finished_job_alive() -> None:
    pod = make("Never", containers=("a",), sidecars=("proxy",))
    actions = compute_pod_actions(pod, observed(running("proxy"), exited("a", 0)))
    assert actions.kill_pod
    assert actions.init_containers_to_start == []


def test_should_container_be_restarted() -> None:
    container = {"name": "a"}
    assert should_container_be_restarted(container, make(), None)
    assert not should_container_be_restarted(container, make(), running("a"))
    assert should_container_be_restarted(
        container, make("Never"), ObservedContainer(name="a", id="x", state="created")
    )
    assert not should_container_be_restarted(container, make("Never"), exited("a", 1))
    assert not should_container_be_restarted(container, make("OnFailure"), exited("a", 0))
    assert should_container_be_restarted(container, make("OnFailure"), exited("a", 2))
    assert not should_container_be_restarted(container, make(deleting=True), exited("a", 2))
