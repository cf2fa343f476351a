"""The ReplicaSet controller: seed the store, sync once, check what it did."""

from __future__ import annotations

import re
from typing import Any

import pytest

from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.podcontrol import (
    is_pod_available,
    pod_from_template,
    pods_to_delete,
    rank_pods_for_deletion,
    slow_start_batch,
)
from nbcluster.control.controllers.replicaset import ReplicaSetController
from nbcluster.errors import BadRequest, NbClusterError
from nbcluster.store import Store
from nbcluster.util.clock import ManualClock, format_time
from nbcluster.util.jsoncopy import deep_copy

Obj = dict[str, Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def api(clock: ManualClock) -> APIServer:
    server = APIServer(Store(), clock)
    server.ensure_system_objects()
    return server


@pytest.fixture
def rsc(api: APIServer, clock: ManualClock) -> ReplicaSetController:
    return ReplicaSetController(api, clock)


def replicaset(name: str = "web", replicas: int = 3, min_ready: int = 0, app: str = "web") -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app, "tier": "front"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
            },
        },
    }


def pods_of(api: APIServer, rs: Obj, *, active_only: bool = True) -> list[Obj]:
    uid = rs["metadata"]["uid"]
    pods = [
        p
        for p in api.cached_list("pods", "default")
        if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or ())
    ]
    if active_only:
        pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def events(api: APIServer, reason: str) -> list[str]:
    return [e["message"] for e in api.cached_list("events", "default") if e["reason"] == reason]


def set_ready(
    api: APIServer, clock: ManualClock, pod: Obj, ready: bool = True, phase: str = "Running"
) -> Obj:
    pod = deep_copy(api.cached("pods", pod["metadata"]["name"], "default"))
    status = pod.setdefault("status", {})
    status["phase"] = phase
    conditions = [c for c in status.get("conditions") or [] if c["type"] != "Ready"]
    conditions.append(
        {
            "type": "Ready",
            "status": "True" if ready else "False",
            "lastTransitionTime": format_time(clock.now()),
        }
    )
    status["conditions"] = conditions
    return api.update_status(pod)


def test_creates_pods_with_names_owner_refs_and_labels(api: APIServer, rsc: ReplicaSetController) -> None:
    rs = api.create(replicaset(replicas=3))
    assert rsc.sync("default/web") is None
    pods = pods_of(api, rs)
    assert len(pods) == 3
    for pod in pods:
        assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{5}", pod["metadata"]["name"])
        assert pod["metadata"]["generateName"] == "web-"
        assert pod["metadata"]["labels"] == {"app": "web", "tier": "front"}
        assert pod["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": rs["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert pod["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert sorted(events(api, "SuccessfulCreate")) == sorted(
        f"Created pod: {p['metadata']['name']}" for p in pods
    )
    status = api.get("replicasets.apps", "web")["status"]
    assert status == {"replicas": 3, "fullyLabeledReplicas": 3, "observedGeneration": 1}
    # A second sync has nothing to do and writes nothing.
    version = api.get("replicasets.apps", "web")["metadata"]["resourceVersion"]
    rsc.sync("default/web")
    assert len(pods_of(api, rs)) == 3
    assert api.get("replicasets.apps", "web")["metadata"]["resourceVersion"] == version


def test_burst_limit_caps_creations_per_sync(api: APIServer, clock: ManualClock) -> None:
    rsc = ReplicaSetController(api, clock, burst_replicas=4)
    rs = api.create(replicaset(replicas=10))
    rsc.sync("default/web")
    assert len(pods_of(api, rs)) == 4
    rsc.sync("default/web")
    rsc.sync("default/web")
    assert len(pods_of(api, rs)) == 10


def test_scale_down_deletes_unscheduled_pending_and_not_ready_first(
    api: APIServer, rsc: ReplicaSetController, clock: ManualClock
) -> None:
    rs = api.create(replicaset(replicas=4))
    rsc.sync("default/web")
    a, b, c, d = pods_of(api, rs)
    # a: scheduled, running, ready. b: scheduled, running, not ready.
    # c: unscheduled, pending. d: scheduled, pending.
    for pod in (a, b, d):
        api.bind("default", pod["metadata"]["name"], "node-1")
    set_ready(api, clock, a)
    set_ready(api, clock, b, ready=False)
    rsc.sync("default/web")
    scaled = api.get("replicasets.apps", "web")
    scaled["spec"]["replicas"] = 1
    api.update(scaled)
    rsc.sync("default/web")
    remaining = pods_of(api, rs)
    assert [p["metadata"]["name"] for p in remaining] == [a["metadata"]["name"]]
    deleted = events(api, "SuccessfulDelete")
    assert sorted(deleted) == sorted(f"Deleted pod: {p['metadata']['name']}" for p in (b, c, d))
    # Scheduled pods terminate gracefully: still stored, but no longer counted.
    terminating = [p for p in pods_of(api, rs, active_only=False) if p["metadata"].get("deletionTimestamp")]
    assert {p["metadata"]["name"] for p in terminating} == {b["metadata"]["name"], d["metadata"]["name"]}
    status = api.get("replicasets.apps", "web")["status"]
    assert status["replicas"] == 1
    assert status["readyReplicas"] == 1
    assert status["availableReplicas"] == 1
    assert status["observedGeneration"] == 2
    # Terminating pods are not replaced either.
    rsc.sync("default/web")
    assert len(pods_of(api, rs)) == 1


def test_ready_and_available_with_min_ready_seconds(
    api: APIServer, rsc: ReplicaSetController, clock: ManualClock
) -> None:
    rs = api.create(replicaset(replicas=3, min_ready=10))
    rsc.sync("default/web")
    pods = pods_of(api, rs)
    set_ready(api, clock, pods[0])
    set_ready(api, clock, pods[1])
    requeue = rsc.sync("default/web")
    status = api.get("replicasets.apps", "web")["status"]
    assert status["readyReplicas"] == 2
    assert "availableReplicas" not in status
    assert requeue is not None and 10 <= requeue < 11
    clock.advance(10)
    rsc.sync("default/web")
    assert "availableReplicas" not in api.get("replicasets.apps", "web")["status"]  # strictly after
    clock.advance(1)
    assert rsc.sync("default/web") is None
    status = api.get("replicasets.apps", "web")["status"]
    assert status["availableReplicas"] == 2
    assert status["readyReplicas"] == 2


def test_finished_pods_are_replaced(api: APIServer, rsc: ReplicaSetController, clock: ManualClock) -> None:
    rs = api.create(replicaset(replicas=2))
    rsc.sync("default/web")
    failed = pods_of(api, rs)[0]
    set_ready(api, clock, failed, ready=False, phase="Failed")
    rsc.sync("default/web")
    active = [p for p in pods_of(api, rs) if p["status"].get("phase") != "Failed"]
    assert len(active) == 2
    assert api.get("replicasets.apps", "web")["status"]["replicas"] == 2


def test_adopts_matching_orphans_and_releases_pods_that_stop_matching(
    api: APIServer, rsc: ReplicaSetController
) -> None:
    orphan = api.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "stray", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        }
    )
    other = api.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "other", "namespace": "default", "labels": {"app": "db"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        }
    )
    rs = api.create(replicaset(replicas=2))
    rsc.sync("default/web")
    adopted = api.get("pods", "stray")
    assert adopted["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
    assert adopted["metadata"]["ownerReferences"][0]["controller"] is True
    assert "ownerReferences" not in api.get("pods", "other")["metadata"]
    assert len(pods_of(api, rs)) == 2
    assert orphan["metadata"]["uid"] in {p["metadata"]["uid"] for p in pods_of(api, rs)}
    # Relabel the adopted pod: released, and a replacement is made.
    relabeled = api.get("pods", "stray")
    relabeled["metadata"]["labels"] = {"app": "debug"}
    api.update(relabeled)
    rsc.sync("default/web")
    assert "ownerReferences" not in api.get("pods", "stray")["metadata"]
    owned = pods_of(api, rs)
    assert len(owned) == 2 and "stray" not in {p["metadata"]["name"] for p in owned}
    assert other["metadata"]["name"] == "other"


def test_pods_controlled_by_another_owner_are_left_alone(api: APIServer, rsc: ReplicaSetController) -> None:
    api.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "taken",
                "namespace": "default",
                "labels": {"app": "web"},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": "x",
                        "uid": "someone-else",
                        "controller": True,
                    }
                ],
            },
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        }
    )
    rs = api.create(replicaset(replicas=1))
    rsc.sync("default/web")
    assert api.get("pods", "taken")["metadata"]["ownerReferences"][0]["uid"] == "someone-else"
    assert len(pods_of(api, rs)) == 1


def test_create_failure_sets_replica_failure_condition(
    api: APIServer, rsc: ReplicaSetController, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.create(replicaset(replicas=2))
    real_create = api.create

    def failing_create(obj: Obj, **kwargs: Any) -> Obj:
        if obj.get("kind") == "Pod":
            raise BadRequest("quota exceeded")
        return real_create(obj, **kwargs)

    monkeypatch.setattr(api, "create", failing_create)
    with pytest.raises(NbClusterError):
        rsc.sync("default/web")
    conditions = api.get("replicasets.apps", "web")["status"]["conditions"]
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in conditions] == [
        ("ReplicaFailure", "True", "FailedCreate", "quota exceeded")
    ]
    monkeypatch.setattr(api, "create", real_create)
    assert events(api, "FailedCreate") == ["Error creating: quota exceeded"]
    rsc.sync("default/web")
    assert "conditions" not in api.get("replicasets.apps", "web")["status"]


def test_deleting_replicaset_creates_nothing(api: APIServer, rsc: ReplicaSetController) -> None:
    rs = api.create(replicaset(replicas=2))
    rs["metadata"]["finalizers"] = ["example.com/hold"]
    api.update(rs)
    api.delete("replicasets.apps", "web")
    rsc.sync("default/web")
    assert pods_of(api, rs) == []
    assert rsc.sync("default/missing") is None


def test_handlers_map_events_to_replicaset_keys(api: APIServer, rsc: ReplicaSetController) -> None:
    rsc.setup()
    try:
        api.create(replicaset(name="web", replicas=1))
        api.create(replicaset(name="db", replicas=1, app="db"))
        assert rsc.queue.pending() == ["default/db", "default/web"]
        rsc.queue.clear()
        rsc.sync("default/web")  # creates a pod (event -> web) and writes status (ignored)
        assert rsc.queue.pending() == ["default/web"]
        rsc.queue.clear()
        # An orphan pod wakes every ReplicaSet whose selector matches it.
        api.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "stray", "namespace": "default", "labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            }
        )
        assert rsc.queue.pending() == ["default/db"]
    finally:
        rsc.teardown()


# -- podcontrol helpers ---------------------------------------------------------------------


def _pod(
    name: str,
    *,
    node: str = "",
    phase: str = "Running",
    ready: str | None = "True",
    ready_at: str = "2026-01-01T00:00:00Z",
    created: str = "2026-01-01T00:00:00Z",
    restarts: int = 0,
    cost: str | None = None,
) -> Obj:
    status: Obj = {"phase": phase, "containerStatuses": [{"name": "c", "restartCount": restarts}]}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": ready, "lastTransitionTime": ready_at}]
    meta: Obj = {"name": name, "uid": f"uid-{name}", "creationTimestamp": created}
    if cost is not None:
        meta["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": cost}
    return {"metadata": meta, "spec": {"nodeName": node}, "status": status}


def test_rank_follows_kubernetes_order() -> None:
    now = "2026-01-02T00:00:00Z"
    pods = [
        _pod("old-ready", node="n1", ready_at="2026-01-01T00:00:00Z"),
        _pod("unscheduled", phase="Pending", ready=None),
        _pod("pending", node="n1", phase="Pending", ready=None),
        _pod("unknown", node="n1", phase="Unknown", ready=None),
        _pod("not-ready", node="n1", ready="False"),
        _pod("expensive", node="n2", cost="100", ready_at="2026-01-01T23:59:00Z"),
        _pod("cheap", node="n2", cost="-5", ready_at="2026-01-01T00:00:00Z"),
        _pod("recent-ready", node="n3", ready_at="2026-01-01T23:59:59Z"),
    ]
    ranked = [p["metadata"]["name"] for p in rank_pods_for_deletion(pods, now=now)]
    assert ranked[:5] == ["unscheduled", "pending", "unknown", "not-ready", "cheap"]
    assert ranked[-1] == "expensive"
    assert ranked.index("recent-ready") < ranked.index("old-ready")


def test_rank_prefers_doubled_up_then_restarts_then_newer() -> None:
    now = "2026-01-02T00:00:00Z"
    lonely = _pod("lonely", node="n1")
    crowded = _pod("crowded", node="n2")
    neighbour = _pod("neighbour", node="n2")
    ranked = rank_pods_for_deletion([lonely, crowded], related_pods=[lonely, crowded, neighbour], now=now)
    assert ranked[0]["metadata"]["name"] == "crowded"
    flaky = _pod("flaky", node="n1", restarts=4)
    steady = _pod("steady", node="n2")
    assert rank_pods_for_deletion([steady, flaky], now=now)[0]["metadata"]["name"] == "flaky"
    young = _pod("young", node="n1", created="2026-01-01T23:00:00Z")
    old = _pod("old", node="n2", created="2025-06-01T00:00:00Z")
    assert rank_pods_for_deletion([old, young], now=now)[0]["metadata"]["name"] == "young"
    assert [p["metadata"]["name"] for p in pods_to_delete([old, young, flaky], 1, now=now)] == ["flaky"]
    assert len(pods_to_delete([old, young], 5, now=now)) == 2
    assert pods_to_delete([old, young], 0, now=now) == []


def test_pod_availability() -> None:
    pod = _pod("p", ready_at="2026-01-01T00:00:00Z")
    assert is_pod_available(pod, 0, 0.0)
    start = 1767225600.0  # 2026-01-01T00:00:00Z
    assert not is_pod_available(pod, 5, start + 5)
    assert is_pod_available(pod, 5, start + 5.5)
    assert not is_pod_available(_pod("q", ready="False"), 0, start)


def test_pod_from_template() -> None:
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "prod", "uid": "u1"},
    }
    template = {
        "metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}, "finalizers": ["x/y"]},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }
    pod = pod_from_template(template, owner, {"uid": "u1", "controller": True})
    assert pod["metadata"] == {
        "generateName": "web-",
        "namespace": "prod",
        "labels": {"app": "web"},
        "annotations": {"a": "b"},
        "finalizers": ["x/y"],
        "ownerReferences": [{"uid": "u1", "controller": True}],
    }
    pod["spec"]["containers"][0]["image"] = "changed"
    assert template["spec"]["containers"][0]["image"] == "i"


def test_slow_start_batch_stops_after_a_failing_batch() -> None:
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        if len(calls) == 4:
            raise BadRequest("boom")

    successes, error = slow_start_batch(20, 1, fn)
    # Batches of 1, 2, then 4 (which fails once, and is attempted whole).
    assert len(calls) == 7
    assert successes == 6
    assert isinstance(error, BadRequest)
    calls.clear()
    assert slow_start_batch(5, 1, lambda: calls.append(1)) == (5, None)
