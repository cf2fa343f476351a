"""The scheduler binds pods that fit and explains, like kube-scheduler, those that do not."""

from __future__ import annotations

from nbcluster.control.scheduler import Scheduler
from tests.conftest import make_node, make_pod


def test_binds_a_fitting_pod_and_records_scheduled(api, clock) -> None:  # type: ignore[no-untyped-def]
    for name in ("a", "b", "c"):
        make_node(api, name)
    scheduler = Scheduler(api, clock)
    scheduler.setup()
    api.create(make_pod("web", cpu="500m"))
    scheduler.sync("default/web")
    pod = api.get("pods", "web")
    assert pod["spec"]["nodeName"] in {"a", "b", "c"}
    assert any(c["type"] == "PodScheduled" and c["status"] == "True" for c in pod["status"]["conditions"])
    (event,) = [e for e in api.cached_list("events", "default") if e["reason"] == "Scheduled"]
    assert event["message"] == f"Successfully assigned default/web to {pod['spec']['nodeName']}"


def test_spreads_replicas_across_equal_nodes(api, clock) -> None:  # type: ignore[no-untyped-def]
    for name in ("a", "b", "c"):
        make_node(api, name)
    scheduler = Scheduler(api, clock)
    scheduler.setup()
    for i in range(6):
        api.create(make_pod(f"p{i}", cpu="100m"))
        scheduler.sync(f"default/p{i}")
    placed = [api.get("pods", f"p{i}")["spec"]["nodeName"] for i in range(6)]
    assert sorted(placed) == ["a", "a", "b", "b", "c", "c"]


def test_pod_that_fits_nowhere_stays_pending_with_kubernetes_wording(api, clock) -> None:  # type: ignore[no-untyped-def]
    for name in ("a", "b", "c"):
        make_node(api, name, cpu="1")
    scheduler = Scheduler(api, clock)
    scheduler.setup()
    api.create(make_pod("huge", cpu="2"))
    assert scheduler.sync("default/huge") is not None
    pod = api.get("pods", "huge")
    assert "nodeName" not in pod["spec"]
    condition = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert condition["status"] == "False" and condition["reason"] == "Unschedulable"
    (event,) = [e for e in api.cached_list("events", "default") if e["reason"] == "FailedScheduling"]
    assert event["message"] == "0/3 nodes are available: 3 Insufficient cpu."
    assert event["type"] == "Warning"


def test_unschedulable_pod_is_retried_when_a_node_is_added(api, clock) -> None:  # type: ignore[no-untyped-def]
    make_node(api, "small", cpu="1")
    scheduler = Scheduler(api, clock)
    scheduler.setup()
    api.create(make_pod("huge", cpu="2"))
    scheduler.sync("default/huge")
    scheduler.queue.clear()
    make_node(api, "big", cpu="8")
    assert "default/huge" in scheduler.queue.pending()
    scheduler.sync("default/huge")
    assert api.get("pods", "huge")["spec"]["nodeName"] == "big"


def test_cordoned_node_gets_no_new_pods(api, clock) -> None:  # type: ignore[no-untyped-def]
    make_node(api, "a")
    api.patch("nodes", "a", {"spec": {"unschedulable": True}}, patch_type="merge")
    scheduler = Scheduler(api, clock)
    scheduler.setup()
    api.create(make_pod("p"))
    scheduler.sync("default/p")
    assert "nodeName" not in api.get("pods", "p")["spec"]
    (event,) = [e for e in api.cached_list("events", "default") if e["reason"] == "FailedScheduling"]
    assert event["message"] == "0/1 nodes are available: 1 node(s) were unschedulable."
