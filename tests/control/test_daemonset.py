"""DaemonSet controller: seed nodes and a DaemonSet, sync once, check what it did."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from nbcluster.control.apiserver import APIServer
from nbcluster.control.controllers.daemonset import (
    DaemonSetController,
    add_daemon_tolerations,
    node_should_run,
    pin_to_node,
    target_node_name,
)
from nbcluster.control.controllers.history import REVISION_HASH_LABEL
from nbcluster.util.clock import ManualClock, format_time
from tests.examples import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR
KEY = "default/agent"

Obj = dict[str, Any]


@pytest.fixture
def ctrl(api: APIServer, clock: ManualClock) -> DaemonSetController:
    return DaemonSetController(api, clock)


def node(name: str, labels: dict[str, str] | None = None, taints: list[Obj] | None = None) -> Obj:
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    if taints:
        obj["spec"]["taints"] = taints
    return obj


def daemonset(name: str = "agent", **spec: Any) -> Obj:
    pod_spec = spec.pop("pod_spec", {})
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "agent", "image": "agent:1"}], **pod_spec},
            },
            **spec,
        },
    }


def pods_by_node(api: APIServer, namespace: str = "default") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pod in api.cached_list("pods", namespace):
        out.setdefault(target_node_name(pod) or "", []).append(pod["metadata"]["name"])
    return out


def mark_ready(api: APIServer, clock: ManualClock, namespace: str = "default") -> None:
    for pod in api.cached_list("pods", namespace):
        if pod.get("status", {}).get("phase") == "Running":
            continue
        copy = api.get("pods", pod["metadata"]["name"], namespace=namespace)
        copy["status"] = {
            "phase": "Running",
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": format_time(clock.now())}
            ],
        }
        api.update_status(copy)


def status(api: APIServer, name: str = "agent", namespace: str = "default") -> Obj:
    return api.get("daemonsets.apps", name, namespace=namespace).get("status", {})


def messages(api: APIServer, reason: str, namespace: str = "default") -> list[str]:
    return [e["message"] for e in api.cached_list("events", namespace) if e["reason"] == reason]


def test_one_pod_per_node_pinned_by_node_affinity(api: APIServer, ctrl: DaemonSetController) -> None:
    for name in ("n1", "n2", "n3"):
        api.create(node(name))
    api.create(daemonset())
    ctrl.sync(KEY)
    by_node = pods_by_node(api)
    assert sorted(by_node) == ["n1", "n2", "n3"]
    assert all(len(names) == 1 for names in by_node.values())

    pod = api.get("pods", by_node["n2"][0], namespace="default")
    assert pod["metadata"]["name"].startswith("agent-")
    assert "nodeName" not in pod["spec"], "the scheduler binds daemon pods"
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms == {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]
    }
    keys = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert ("node.kubernetes.io/not-ready", "NoExecute") in keys
    assert ("node.kubernetes.io/unreachable", "NoExecute") in keys
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") not in keys
    revision = api.cached_list("controllerrevisions.apps", "default")[0]
    assert (
        pod["metadata"]["labels"][REVISION_HASH_LABEL] == revision["metadata"]["labels"][REVISION_HASH_LABEL]
    )
    assert revision["metadata"]["name"] == f"agent-{revision['metadata']['labels'][REVISION_HASH_LABEL]}"
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
    assert sorted(messages(api, "SuccessfulCreate")) == sorted(
        f"Created pod: {name}" for names in by_node.values() for name in names
    )

    st = status(api)
    assert st["desiredNumberScheduled"] == 3
    assert st["currentNumberScheduled"] == 3
    assert st["numberReady"] == 0
    assert st["numberUnavailable"] == 3
    assert st["updatedNumberScheduled"] == 3
    assert st["numberMisscheduled"] == 0
    assert st["observedGeneration"] == 1


def test_second_sync_changes_nothing(api: APIServer, clock: ManualClock, ctrl: DaemonSetController) -> None:
    api.create(node("n1"))
    api.create(daemonset())
    ctrl.sync(KEY)
    mark_ready(api, clock)
    ctrl.sync(KEY)
    version = api.get("daemonsets.apps", "agent", namespace="default")["metadata"]["resourceVersion"]
    pods = pods_by_node(api)
    ctrl.sync(KEY)
    assert pods_by_node(api) == pods
    assert api.get("daemonsets.apps", "agent", namespace="default")["metadata"]["resourceVersion"] == version
    st = status(api)
    assert (st["numberReady"], st["numberAvailable"]) == (1, 1)
    assert "numberUnavailable" not in st


def test_tainted_node_is_skipped_unless_tolerated(api: APIServer, ctrl: DaemonSetController) -> None:
    api.create(node("n1"))
    api.create(node("tainted", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]))
    api.create(daemonset())
    ctrl.sync(KEY)
    assert sorted(pods_by_node(api)) == ["n1"]
    assert status(api)["desiredNumberScheduled"] == 1

    ds = api.get("daemonsets.apps", "agent", namespace="default")
    ds["spec"]["template"]["spec"]["tolerations"] = [
        {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}
    ]
    api.update(ds)
    ctrl.sync(KEY)
    assert sorted(pods_by_node(api)) == ["n1", "tainted"]


def test_no_execute_taint_evicts_but_no_schedule_keeps(api: APIServer, ctrl: DaemonSetController) -> None:
    api.create(node("n1"))
    api.create(daemonset())
    ctrl.sync(KEY)
    n1 = api.get("nodes", "n1")
    n1["spec"]["taints"] = [{"key": "maintenance", "effect": "NoSchedule"}]
    api.update(n1)
    ctrl.sync(KEY)
    assert sorted(pods_by_node(api)) == ["n1"], "a NoSchedule taint does not evict a running daemon pod"
    assert status(api)["numberMisscheduled"] == 1
    n1 = api.get("nodes", "n1")
    n1["spec"]["taints"] = [{"key": "maintenance", "effect": "NoExecute"}]
    api.update(n1)
    ctrl.sync(KEY)
    assert pods_by_node(api) == {}
    assert len(messages(api, "SuccessfulDelete")) == 1


def test_node_selector_is_honoured(api: APIServer, ctrl: DaemonSetController) -> None:
    api.create(node("ssd1", {"disk": "ssd"}))
    api.create(node("hdd1", {"disk": "hdd"}))
    api.create(daemonset(pod_spec={"nodeSelector": {"disk": "ssd"}}))
    ctrl.sync(KEY)
    assert sorted(pods_by_node(api)) == ["ssd1"]


def test_required_node_affinity_is_honoured(api: APIServer, ctrl: DaemonSetController) -> None:
    api.create(node("a", {"zone": "a"}))
    api.create(node("b", {"zone": "b"}))
    api.create(
        daemonset(
            pod_spec={
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}
                            ]
                        }
                    }
                }
            }
        )
    )
    ctrl.sync(KEY)
    assert sorted(pods_by_node(api)) == ["b"]
    pod = api.cached_list("pods", "default")[0]
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]}
    ]


def test_node_added_later_gets_a_pod(api: APIServer, ctrl: DaemonSetController) -> None:
    api.create(node("n1"))
    api.create(daemonset())
    ctrl.sync(KEY)
    ctrl.setup()
    try:
        api.create(node("n2"))
        assert len(ctrl.queue) == 1, "a new node enqueues every DaemonSet"
    finally:
        ctrl.teardown()
    ctrl.sync(KEY)
    assert sorted(pods_by_node(api)) == ["n1", "n2"]


def test_node_heartbeat_does_not_enqueue(api: APIServer, ctrl: DaemonSetController) -> None:
    api.create(node("n1"))
    api.create(daemonset())
    ctrl.setup()
    try:
        n1 = api.get("nodes", "n1")
        n1["status"]["conditions"][0]["lastHeartbeatTime"] = "2026-01-01T00:00:10Z"
        api.update_status(n1)
        assert len(ctrl.queue) == 0
    finally:
        ctrl.teardown()


def test_node_that_stops_matching_loses_its_pod(api: APIServer, ctrl: DaemonSetController) -> None:
    api.create(node("n1", {"role": "edge"}))
    api.create(node("n2", {"role": "edge"}))
    api.create(daemonset(pod_spec={"nodeSelector": {"role": "edge"}}))
    ctrl.sync(KEY)
    n2 = api.get("nodes", "n2")
    n2["metadata"]["labels"]["role"] = "core"
    api.update(n2)
    ctrl.sync(KEY)
    assert sorted(pods_by_node(api)) == ["n1"]
    assert len(messages(api, "SuccessfulDelete")) == 1


def test_failed_daemon_pod_is_replaced(api: APIServer, ctrl: DaemonSetController) -> None:
    api.create(node("n1"))
    api.create(daemonset())
    ctrl.sync(KEY)
    pod = api.cached_list("pods", "default")[0]
    failed = api.get("pods", pod["metadata"]["name"], namespace="default")
    failed["status"] = {"phase": "Failed"}
    api.update_status(failed)
    ctrl.sync(KEY)
    assert pods_by_node(api) == {}
    assert messages(api, "FailedDaemonPod") == [
        f"Found failed daemon pod default/{pod['metadata']['name']} on node n1, will try to kill it"
    ]
    ctrl.sync(KEY)
    assert len(pods_by_node(api)["n1"]) == 1


def _new_image(api: APIServer, image: str, **strategy: Any) -> None:
    ds = api.get("daemonsets.apps", "agent", namespace="default")
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = image
    if strategy:
        ds["spec"]["updateStrategy"] = strategy
    api.update(ds)


def _images(api: APIServer) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pod in api.cached_list("pods", "default"):
        out.setdefault(target_node_name(pod) or "", []).append(pod["spec"]["containers"][0]["image"])
    return out


def test_rolling_update_respects_max_unavailable(
    api: APIServer, clock: ManualClock, ctrl: DaemonSetController
) -> None:
    for name in ("n1", "n2", "n3"):
        api.create(node(name))
    api.create(daemonset())
    ctrl.sync(KEY)
    mark_ready(api, clock)
    ctrl.sync(KEY)
    _new_image(api, "agent:2")
    ctrl.sync(KEY)
    images = _images(api)
    assert sum(len(v) for v in images.values()) == 2, "maxUnavailable 1: one old pod goes"
    ctrl.sync(KEY)
    images = _images(api)
    assert sorted(img for v in images.values() for img in v) == ["agent:1", "agent:1", "agent:2"]
    ctrl.sync(KEY)
    assert sorted(img for v in _images(api).values() for img in v) == ["agent:1", "agent:1", "agent:2"], (
        "the new pod is not available yet"
    )
    for _ in range(6):
        mark_ready(api, clock)
        ctrl.sync(KEY)
    assert _images(api) == {"n1": ["agent:2"], "n2": ["agent:2"], "n3": ["agent:2"]}
    st = status(api)
    assert (st["updatedNumberScheduled"], st["numberAvailable"]) == (3, 3)
    revisions = api.cached_list("controllerrevisions.apps", "default")
    assert sorted(r["revision"] for r in revisions) == [1, 2]


def test_rolling_update_with_max_surge(api: APIServer, clock: ManualClock, ctrl: DaemonSetController) -> None:
    api.create(node("n1"))
    api.create(node("n2"))
    api.create(daemonset())
    ctrl.sync(KEY)
    mark_ready(api, clock)
    _new_image(api, "agent:2", type="RollingUpdate", rollingUpdate={"maxUnavailable": 0, "maxSurge": 1})
    ctrl.sync(KEY)
    images = _images(api)
    assert sorted(len(v) for v in images.values()) == [1, 2], "one new pod starts beside its old one"
    surged = next(n for n, v in images.items() if len(v) == 2)
    ctrl.sync(KEY)
    assert len(_images(api)[surged]) == 2, "the old pod stays until the new one is available"
    mark_ready(api, clock)
    ctrl.sync(KEY)
    assert _images(api)[surged] == ["agent:2"]


def test_on_delete_strategy_waits(api: APIServer, clock: ManualClock, ctrl: DaemonSetController) -> None:
    api.create(node("n1"))
    api.create(daemonset(updateStrategy={"type": "OnDelete"}))
    ctrl.sync(KEY)
    mark_ready(api, clock)
    _new_image(api, "agent:2")
    ctrl.sync(KEY)
    assert _images(api) == {"n1": ["agent:1"]}
    assert "updatedNumberScheduled" not in status(api)
    api.delete("pods", api.cached_list("pods", "default")[0]["metadata"]["name"], namespace="default")
    ctrl.sync(KEY)
    assert _images(api) == {"n1": ["agent:2"]}


def test_host_network_adds_network_unavailable_toleration() -> None:
    spec: Obj = {
        "hostNetwork": True,
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 5,
            }
        ],
    }
    add_daemon_tolerations(spec)
    keys = [(t["key"], t["effect"]) for t in spec["tolerations"]]
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") in keys
    assert len(keys) == len(set(keys))
    not_ready = next(t for t in spec["tolerations"] if t["key"] == "node.kubernetes.io/not-ready")
    assert "tolerationSeconds" not in not_ready, "the daemon toleration has no time limit"


def test_pin_to_node_keeps_preferred_terms() -> None:
    preferred = [{"weight": 1, "preference": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}]
    affinity = pin_to_node(
        {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}, "n9"
    )
    assert affinity["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] == preferred
    assert target_node_name({"spec": {"affinity": affinity}}) == "n9"


def test_node_should_run_on_untolerated_taints() -> None:
    ds = daemonset()
    ds["metadata"]["uid"] = "x"
    assert node_should_run(node("n"), ds) == (True, True)
    assert node_should_run(node("n", taints=[{"key": "k", "effect": "NoSchedule"}]), ds) == (False, True)
    assert node_should_run(node("n", taints=[{"key": "k", "effect": "NoExecute"}]), ds) == (False, False)
    assert node_should_run(
        node("n", taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]), ds
    ) == (True, True)


def test_shared_fluentd_manifest_runs_on_every_node_including_control_plane(
    api: APIServer, clock: ManualClock, ctrl: DaemonSetController
) -> None:
    api.create(
        node(
            "server-0",
            {"node-role.kubernetes.io/control-plane": "true"},
            taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
        )
    )
    api.create(node("agent-0"))
    api.create(node("agent-1"))
    for doc in yaml.safe_load_all((EXAMPLES / "controllers__daemonset.yaml").read_text()):
        if doc:
            api.create(doc)
    key = "kube-system/fluentd-elasticsearch"
    ctrl.sync(key)
    assert sorted(pods_by_node(api, "kube-system")) == ["agent-0", "agent-1", "server-0"]
    mark_ready(api, clock, "kube-system")
    ctrl.sync(key)
    st = status(api, "fluentd-elasticsearch", "kube-system")
    assert (
        st["desiredNumberScheduled"],
        st["currentNumberScheduled"],
        st["numberReady"],
        st["numberAvailable"],
    ) == (3, 3, 3, 3)
    pod = api.cached_list("pods", "kube-system")[0]
    assert pod["metadata"]["labels"]["name"] == "fluentd-elasticsearch"
