"""Endpoints follow the ready pods a Service selects, with named target ports resolved."""

from __future__ import annotations

from nbcluster.control.controllers.endpoints import EndpointsController
from tests.conftest import make_pod


def running_pod(api, name: str, ip: str, *, ready: bool, labels=None):  # type: ignore[no-untyped-def]
    pod = make_pod(name, labels=labels or {"app": "web"})
    pod["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    created = api.create(pod)
    api.bind("default", name, "node-a")
    created = api.get("pods", name)
    created["status"] = {
        "phase": "Running",
        "podIP": ip,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    return api.update_status(created)


def test_endpoints_list_ready_and_not_ready_addresses(api, clock) -> None:  # type: ignore[no-untyped-def]
    api.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
        }
    )
    running_pod(api, "a", "10.244.0.2", ready=True)
    running_pod(api, "b", "10.244.0.3", ready=False)
    running_pod(api, "other", "10.244.0.4", ready=True, labels={"app": "db"})
    controller = EndpointsController(api, clock)
    controller.sync("default/web")
    endpoints = api.get("endpoints", "web")
    (subset,) = endpoints["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == ["10.244.0.2"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.244.0.3"]
    assert subset["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert subset["addresses"][0]["targetRef"]["name"] == "a"


def test_pod_changes_enqueue_the_services_that_select_them(api, clock) -> None:  # type: ignore[no-untyped-def]
    api.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        }
    )
    controller = EndpointsController(api, clock)
    controller.setup()
    controller.queue.clear()
    running_pod(api, "a", "10.244.0.2", ready=True)
    assert "default/web" in controller.queue.pending()  # batched: one sync for a burst of pod events
    controller.sync("default/web")
    api.delete("pods", "a", grace_period_seconds=0)
    controller.sync("default/web")
    assert api.get("endpoints", "web")["subsets"] == []


def test_endpoints_of_a_deleted_service_go(api, clock) -> None:  # type: ignore[no-untyped-def]
    api.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        }
    )
    controller = EndpointsController(api, clock)
    controller.sync("default/web")
    assert api.cached("endpoints", "web", "default") is not None
    api.delete("services", "web")
    controller.sync("default/web")
    assert api.cached("endpoints", "web", "default") is None


def test_services_added_or_changed_later_are_seen_by_pod_events(api, clock) -> None:  # type: ignore[no-untyped-def]
    controller = EndpointsController(api, clock)
    controller.setup()
    running_pod(api, "a", "10.244.0.2", ready=True)  # no Service selects pods yet
    controller.queue.clear()
    svc = api.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "db"}, "ports": [{"port": 80}]},
        }
    )
    controller.queue.clear()
    running_pod(api, "b", "10.244.0.3", ready=True)
    assert controller.queue.pending() == []  # selects app=db, not these pods
    svc["spec"]["selector"] = {"app": "web"}
    api.update(svc)
    controller.queue.clear()
    api.delete("pods", "b", grace_period_seconds=0)
    assert controller.queue.pending() == ["default/web"]
