"""A silent node becomes Unknown, is tainted unreachable, and its pods are evicted on time."""

from __future__ import annotations

from nbcluster.control.controllers.nodelifecycle import NodeLifecycleController
from nbcluster.util.clock import format_time
from tests.conftest import make_node, make_pod


def lease(api, node: str) -> None:  # type: ignore[no-untyped-def]
    api.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": node, "namespace": "kube-node-lease"},
            "spec": {
                "holderIdentity": node,
                "leaseDurationSeconds": 40,
                "renewTime": format_time(api.clock.now()),
            },
        },
        validate_schema=False,
    )


def test_silent_node_is_marked_unknown_tainted_and_evicted(api, clock) -> None:  # type: ignore[no-untyped-def]
    make_node(api, "n1")
    lease(api, "n1")
    api.create(make_pod("p"))
    api.bind("default", "p", "n1")
    controller = NodeLifecycleController(api, clock)
    requeue = controller.sync("n1")
    assert requeue is not None and 40 <= requeue <= 41
    assert "taints" not in api.get("nodes", "n1")["spec"]

    clock.advance(41)
    controller.sync("n1")
    node = api.get("nodes", "n1")
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "Unknown" and ready["message"] == "Kubelet stopped posting node status."
    assert {(t["key"], t["effect"]) for t in node["spec"]["taints"]} == {
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    }
    assert api.get("pods", "p")["metadata"].get("deletionTimestamp") is None  # 300 s toleration

    clock.advance(299)
    assert controller.sync("n1") is not None
    assert api.get("pods", "p")["metadata"].get("deletionTimestamp") is None
    clock.advance(2)
    controller.sync("n1")
    assert api.get("pods", "p")["metadata"]["deletionTimestamp"]
    reasons = {e["reason"] for e in api.cached_list("events", "default")}
    assert "TaintManagerEviction" in reasons


def test_node_that_comes_back_loses_the_taints(api, clock) -> None:  # type: ignore[no-untyped-def]
    make_node(api, "n1")
    lease(api, "n1")
    controller = NodeLifecycleController(api, clock)
    clock.advance(60)
    controller.sync("n1")
    assert api.get("nodes", "n1")["spec"]["taints"]
    # The kubelet posts Ready again and renews its lease.
    node = api.get("nodes", "n1")
    for condition in node["status"]["conditions"]:
        condition.update(status="True", lastHeartbeatTime=format_time(clock.now()))
    api.update_status(node)
    renewed = api.get("leases", "n1", namespace="kube-node-lease")
    renewed["spec"]["renewTime"] = format_time(clock.now())
    api.update(renewed)
    controller.sync("n1")
    assert "taints" not in api.get("nodes", "n1")["spec"]


def test_cordoned_node_gets_the_unschedulable_taint(api, clock) -> None:  # type: ignore[no-untyped-def]
    make_node(api, "n1")
    lease(api, "n1")
    api.patch("nodes", "n1", {"spec": {"unschedulable": True}}, patch_type="merge")
    NodeLifecycleController(api, clock).sync("n1")
    assert api.get("nodes", "n1")["spec"]["taints"] == [
        {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
    ]


def test_a_node_that_reports_not_ready_has_its_pods_marked_not_ready(api, clock) -> None:  # type: ignore[no-untyped-def]
    """Ready=False from the kubelet itself (its runtime is down): tainted not-ready, and its
    pods' Ready condition goes False at once (MarkPodsNotReady), as for a silent node."""
    make_node(api, "n1")
    lease(api, "n1")
    api.create(make_pod("p"))
    api.bind("default", "p", "n1")
    pod = api.get("pods", "p")
    pod["status"]["conditions"] = [
        {"type": "Ready", "status": "True"},
        {"type": "ContainersReady", "status": "True"},
    ]
    api.update_status(pod)
    node = api.get("nodes", "n1")
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    ready.update(status="False", reason="KubeletNotReady", message="container runtime not ready: ...")
    api.update_status(node)
    NodeLifecycleController(api, clock).sync("n1")
    assert {(t["key"], t["effect"]) for t in api.get("nodes", "n1")["spec"]["taints"]} == {
        ("node.kubernetes.io/not-ready", "NoSchedule"),
        ("node.kubernetes.io/not-ready", "NoExecute"),
    }
    conditions = {c["type"]: c for c in api.get("pods", "p")["status"]["conditions"]}
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("False", "NodeNotReady")
    assert conditions["ContainersReady"]["status"] == "False"
    assert [e["message"] for e in api.cached_list("events", "default") if e["reason"] == "NodeNotReady"] == [
        "Node is not ready"
    ]
